import { randomUUID } from 'node:crypto';
import { takeFormField, takeJsonField, type BodyField } from './body';
import { DEFAULTS, type ConfigResult, type RelayConfig } from './config';
import { errorResponse, RelayError } from './errors';
import { defaultAgents, forward, type Agents, type ServerBodies, type UpstreamRequest } from './forward';
import { checkAppId, checkPathAllowed } from './guards';
import { clientResponseHeaders, pickRequestId, upstreamRequestHeaders } from './headers';
import { formatRequestLog, stdoutSink, type LogSink, type RequestLog } from './log';
import { findPairs, withoutPairs } from './query';
import { signatureHeaders } from './signing';
import { resolveTarget } from './target';
import { BODY_TOO_LARGE, type Endpoint, type HeaderMap, type RelayRequest, type RelayResponse, type StreamOutcome } from './types';

// The forwarding core: one plain request in, one plain response out. Adapters call `handle`; nothing
// here knows which runtime it runs on.

export interface Relay {
  endpoint: Endpoint;
  /** Adapters that stream the body stop reading past this. */
  maxBodyBytes: number;
  /** Adapters that decode a response themselves (FC 2.0) stop past this. */
  maxResponseBytes: number;
  /** Adapters that stream the body answer 408 after a pause this long. */
  bodyTimeoutMs: number;
  /** RELAY_MAX_INFLIGHT, for servers that admit requests themselves (local server, web function). */
  maxInflight: number | undefined;
  /** RELAY_BASE_PATH, for servers that route by path themselves. */
  basePath: string;
  /** The whole answer, body buffered: what event functions return. */
  handle(request: RelayRequest, limits?: PlatformLimits): Promise<RelayResponse>;
  /**
   * For adapters that can write a body as it arrives (servers): an upstream body longer than
   * STREAM_ABOVE_BYTES comes as `stream` instead of being held in memory whole.
   */
  handleStreaming(request: RelayRequest): Promise<RelayResponse>;
  /** Answers a call the adapter could not even turn into a request (logged like any other). */
  reject(error: RelayError, method: string, detail?: string): RelayResponse;
}

/**
 * Bodies up to this size are buffered whole, so an upstream that cuts one short is answered with a clean
 * 502; larger ones (downloads, mostly) are streamed on servers, where memory is shared by every request
 * in flight, and an upstream that cuts one short cuts the client's answer short. 256 KiB keeps most API
 * answers buffered and a download's memory independent of its size (npm run bench, section 3).
 */
export const STREAM_ABOVE_BYTES = 256 * 1024;

/**
 * What the runtime in front of the relay can carry. A cloud that would fail opaquely on an oversized
 * request or response gets a clear relay error instead, naming the limit.
 */
export interface PlatformLimits {
  /** Named in error messages: "Tencent SCF". */
  platform: string;
  maxRequestBytes: number;
  /** Largest response the platform returns, as measured by `responseSize`. */
  maxResponseBytes: number;
  /** Size of a response once the platform has it (an event envelope grows base64 bodies by a third). */
  responseSize(headers: Record<string, string | string[]>, bodyLength: number): number;
}

export interface RelayDeps {
  agents?: Agents;
  log?: LogSink;
  makeRequestId?: () => string;
  /** `serverBodies` from stream.ts, given by servers; without it `handleStreaming` buffers like `handle`. */
  streaming?: ServerBodies;
}

export function createRelay(endpoint: Endpoint, configResult: ConfigResult, deps: RelayDeps = {}): Relay {
  const agents = deps.agents ?? defaultAgents;
  const makeRequestId = deps.makeRequestId ?? randomUUID;
  const log = configResult.ok && !configResult.config.log ? undefined : (deps.log ?? stdoutSink);

  const newEntry = (requestId: string, method: string): RequestLog => ({
    requestId,
    fn: endpoint.name,
    method,
    path: undefined,
    query: undefined,
    status: 0,
    ms: 0,
    bytesIn: 0,
    bytesOut: 0,
    error: undefined,
    detail: undefined,
  });
  const record = (entry: RequestLog, status: number, bytesOut: number, started: number) => {
    if (!log) return;
    entry.status = status;
    entry.bytesOut = bytesOut;
    entry.ms = Math.round((performance.now() - started) * 10) / 10;
    log(formatRequestLog(entry));
  };

  const streaming = deps.streaming && { above: STREAM_ABOVE_BYTES, bodies: deps.streaming };
  const handle = async (request: RelayRequest, limits: PlatformLimits | undefined, streaming: UpstreamRequest['streaming']): Promise<RelayResponse> => {
    const started = performance.now();
    const requestId = pickRequestId(request.headers, makeRequestId);
    const entry = newEntry(requestId, request.method);
    entry.bytesIn = request.body === BODY_TOO_LARGE ? 0 : request.body.length;
    let response: RelayResponse;
    try {
      if (!configResult.ok) throw new RelayError('CONFIG', configResult.message);
      response = await relay(endpoint, configResult.config, request, requestId, agents, entry, limits, streaming);
    } catch (error) {
      const relayError = error instanceof RelayError ? error : new RelayError('INTERNAL', 'the relay failed unexpectedly');
      entry.error = relayError.code;
      if (relayError.code === 'INTERNAL') entry.detail = String(error);
      response = errorResponse(relayError, requestId);
    }
    // The id the client sees: the upstream's own, when it sent one.
    entry.requestId = String(response.headers['x-request-id'] ?? requestId);
    const { stream } = response;
    if (!stream) {
      record(entry, response.status, response.body.length, started);
      return response;
    }
    // A streamed answer is logged once it has ended, with the bytes that went out and how it ended.
    const ended = (outcome: StreamOutcome) => {
      entry.error = outcome.error;
      entry.detail = outcome.detail;
      record(entry, response.status, outcome.bytes, started);
      return outcome;
    };
    response.stream = {
      length: stream.length,
      discard: (reason) => {
        stream.discard(reason);
        ended({ bytes: 0, error: reason });
      },
      pipeTo: (sink) => stream.pipeTo(sink).then(ended),
    };
    return response;
  };

  return {
    endpoint,
    maxBodyBytes: configResult.ok ? configResult.config.maxBodyBytes : DEFAULTS.maxBodyBytes,
    maxResponseBytes: configResult.ok ? configResult.config.maxResponseBytes : DEFAULTS.maxResponseBytes,
    bodyTimeoutMs: configResult.ok ? configResult.config.bodyTimeoutMs : DEFAULTS.bodyTimeoutMs,
    maxInflight: configResult.ok ? configResult.config.maxInflight : undefined,
    basePath: configResult.ok ? configResult.config.basePath : '',
    handle: (request, limits) => handle(request, limits, undefined),
    handleStreaming: (request) => handle(request, undefined, streaming),
    reject(error, method, detail) {
      const started = performance.now();
      const response = errorResponse(error, makeRequestId());
      const entry = newEntry(String(response.headers['x-request-id']), method);
      entry.error = error.code;
      entry.detail = detail;
      record(entry, response.status, response.body.length, started);
      return response;
    },
  };
}

async function relay(
  endpoint: Endpoint,
  config: RelayConfig,
  request: RelayRequest,
  requestId: string,
  agents: Agents,
  entry: RequestLog,
  limits: PlatformLimits | undefined,
  streaming: UpstreamRequest['streaming'],
): Promise<RelayResponse> {
  if (request.method !== endpoint.method) {
    throw new RelayError('METHOD_NOT_ALLOWED', `/${endpoint.name} accepts ${endpoint.method} only`, { allow: endpoint.method });
  }
  const platformBound = limits !== undefined && limits.maxRequestBytes < config.maxBodyBytes;
  const maxBodyBytes = platformBound ? limits.maxRequestBytes : config.maxBodyBytes;
  if (request.body === BODY_TOO_LARGE || request.body.length > maxBodyBytes) {
    const where = platformBound ? `, the most ${limits.platform} accepts` : '';
    throw new RelayError('BODY_TOO_LARGE', `the request body is larger than ${maxBodyBytes} bytes${where}`);
  }
  checkAppId(config.allowAppIds, config.allowDevtools, request.headers);
  const located = locateApiPath(endpoint, config.pathParam, withoutBasePath(config.basePath, request.path), request.query, request.headers, request.body);
  const target = resolveTarget(config.upstream, located.apiPath, located.query);
  const pathAndQuery = target.pathname + target.search;
  entry.path = target.pathname;
  entry.query = target.search.slice(1);
  if (config.allowPaths) checkPathAllowed(config.allowPaths, target.segments);
  const headers = upstreamRequestHeaders(request.headers, {
    upstreamHost: config.upstream.host,
    requestId,
    clientIp: request.clientIp,
    protocol: request.protocol,
    publicHost: config.publicHost,
    bodyLength: located.body?.length,
    headersParsed: request.headersParsed,
    methodOverride: endpoint.method === 'POST',
  });
  if (config.signingSecret) Object.assign(headers, signatureHeaders(config.signingSecret, endpoint.method, pathAndQuery, located.body, headers));

  const responseBound = limits !== undefined && limits.maxResponseBytes < config.maxResponseBytes;
  const tooLarge = (size?: number) => {
    const what = size === undefined ? 'the upstream response' : `the upstream response (${size} bytes)`;
    const limit = responseBound
      ? `the ${limits.maxResponseBytes} bytes ${limits.platform} can return once encoded`
      : `${config.maxResponseBytes} bytes`;
    return new RelayError('RESPONSE_TOO_LARGE', `${what} is larger than ${limit}`);
  };
  const upstream = await forward(
    {
      upstream: config.upstream,
      path: pathAndQuery,
      method: endpoint.method,
      headers,
      body: located.body,
      timeoutMs: config.timeoutMs,
      // Encoding only ever grows a body, so nothing larger than the platform's limit is worth reading.
      maxResponseBytes: responseBound ? limits.maxResponseBytes : config.maxResponseBytes,
      signal: request.signal,
      streaming,
    },
    agents,
  ).catch((error: unknown) => {
    throw error instanceof RelayError && error.code === 'RESPONSE_TOO_LARGE' ? tooLarge() : error;
  });
  const { stream } = upstream;
  const answerHeaders = clientResponseHeaders(upstream.rawHeaders, stream ? stream.length : upstream.body.length, upstream.status, config.upstream.basePath);
  answerHeaders['x-request-id'] ??= requestId;
  if (limits && limits.responseSize(answerHeaders, upstream.body.length) > limits.maxResponseBytes) {
    throw tooLarge(upstream.body.length);
  }
  return stream ? { status: upstream.status, headers: answerHeaders, body: upstream.body, stream } : { status: upstream.status, headers: answerHeaders, body: upstream.body };
}

/** The request path below RELAY_BASE_PATH; a path outside it reaches no function. */
function withoutBasePath(basePath: string, path: string): string {
  if (basePath === '') return path;
  if (path === basePath) return '/';
  if (path.startsWith(`${basePath}/`)) return path.slice(basePath.length);
  throw new RelayError('NOT_FOUND', `no relay function at ${path.slice(0, 200)} (RELAY_BASE_PATH is ${basePath})`);
}

interface LocatedPath {
  /** API path where `%XX` triplets are escapes. */
  apiPath: string;
  /** Raw query string to forward. */
  query: string;
  /** Body to forward; undefined for GET. */
  body: Buffer | undefined;
}

/**
 * Finds where the client put the API path: in the URL path (`/get/api/users`), in the query
 * (`/get?method=api/users`), or for POST/PUT in the body next to the data, as the original proxy did.
 */
function locateApiPath(
  endpoint: Endpoint,
  param: string,
  requestPath: string,
  query: string,
  headers: HeaderMap,
  body: Buffer,
): LocatedPath {
  // A DELETE may carry a body (some APIs read one); an empty one is not sent, as wx.request sends none.
  const forwardedBody = endpoint.method === 'GET' || (endpoint.method === 'DELETE' && body.length === 0) ? undefined : body;
  const prefix = `/${endpoint.name}`;
  if (requestPath.startsWith(`${prefix}/`) && requestPath.length > prefix.length + 1) {
    // Path style: the query is the API's own, `method` included. The leading slash stays on the
    // path so that `/get//host` is seen as the `//host` it is.
    return { apiPath: requestPath.slice(prefix.length), query, body: forwardedBody };
  }
  if (requestPath !== prefix && requestPath !== `${prefix}/` && requestPath !== '/' && requestPath !== '') {
    throw new RelayError('NOT_FOUND', `no relay function at ${requestPath.slice(0, 200)}`);
  }

  const pairs = findPairs(query, param);
  if (pairs.length > 1) throw new RelayError('BAD_PATH', `"${param}" is given more than once`);
  const [pair] = pairs;
  if (pair) {
    if (pair.value === undefined) throw new RelayError('BAD_PATH', `"${param}" has malformed percent-encoding`);
    return { apiPath: pair.value, query: withoutPairs(query, pairs), body: forwardedBody };
  }
  if (forwardedBody === undefined || forwardedBody.length === 0) {
    throw new RelayError('BAD_PATH', `the API path is missing: pass it as "${param}" or as ${prefix}/<path>`);
  }
  // A compressed body is forwarded exactly as it came and never inflated here: that is what keeps a
  // small zip bomb from becoming gigabytes in the relay. So the path cannot be read out of it.
  const encoding = [headers['content-encoding']].flat()[0]?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
    throw new RelayError('BAD_BODY', `the body is ${encoding}-encoded, so "${param}" cannot be read from it; pass "${param}" in the query`);
  }
  const isForm = [headers['content-type']].flat().some((type) => type?.toLowerCase().includes('application/x-www-form-urlencoded'));
  const field: BodyField | undefined = isForm ? takeFormField(forwardedBody, param) : takeJsonField(forwardedBody, param);
  if (!field) throw new RelayError('BAD_PATH', `the API path is missing: no "${param}" in the query or the body`);
  return { apiPath: field.value, query, body: field.body };
}
