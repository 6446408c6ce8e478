import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';

// How each cloud turns an HTTP request into a call of the function, and the function's answer back
// into HTTP, written from the vendors' docs linked below. The emulator is deliberately strict: where
// a platform would reject an answer or drop a header, so does it.

/** The HTTP request as the platform's front end received it. */
export interface IncomingCall {
  method: string;
  /** Raw path and query, as on the request line. */
  target: string;
  /** Header pairs in the order received, names as sent. */
  headers: [string, string][];
  body: Buffer;
  remoteAddress: string;
  host: string;
}

/** What the platform's front end sends back. */
export interface OutgoingAnswer {
  status: number;
  headers: [string, string][];
  body: Buffer;
}

export type FunctionHandler = (...args: unknown[]) => unknown;

export interface EmulatedPlatform {
  id: PlatformId;
  title: string;
  /** Largest request body the platform takes, and largest answer it returns (as it measures them). */
  maxRequestBytes: number;
  maxResultBytes: number;
  invoke(handler: FunctionHandler, call: IncomingCall): Promise<OutgoingAnswer>;
}

export const PLATFORM_IDS = ['fc3', 'fc2', 'aliyun-apigw', 'scf-apigw', 'scf-url', 'lambda'] as const;
export type PlatformId = (typeof PLATFORM_IDS)[number];

const MB = 1024 * 1024;

/** An error the platform itself answers with: plain text, never the relay's JSON. */
export function platformError(status: number, message: string): OutgoingAnswer {
  return { status, headers: [['content-type', 'text/plain; charset=utf-8']], body: Buffer.from(`emulated platform error: ${message}\n`) };
}

class PlatformRejection extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

// ---- request pieces -------------------------------------------------------------------------------

function splitTarget(target: string): { path: string; query: string } {
  const mark = target.indexOf('?');
  return mark === -1 ? { path: target, query: '' } : { path: target.slice(0, mark), query: target.slice(mark + 1) };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** The query as a parsed map, repeated keys as arrays (Tencent, FC2) or joined by commas (FC3). */
function parsedQuery(query: string, repeated: 'array' | 'comma'): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const piece of query.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const name = decode(eq === -1 ? piece : piece.slice(0, eq));
    const value = decode(eq === -1 ? '' : piece.slice(eq + 1));
    const existing = result[name];
    if (existing === undefined) result[name] = value;
    else if (repeated === 'comma') result[name] = `${existing},${value}`;
    else result[name] = [existing, value].flat();
  }
  return result;
}

/**
 * What FC adds to every request it hands a function: its request id and the instance's temporary
 * credentials (help.aliyun.com 2513507). Clients cannot send `x-fc-*` themselves; FC drops them.
 */
function withFcHeaders<T extends Record<string, string | string[]>>(headers: T, requestId: string): T {
  for (const name of Object.keys(headers)) if (name.toLowerCase().startsWith('x-fc-')) delete headers[name];
  return Object.assign(headers, { 'x-fc-request-id': requestId, 'x-fc-access-key-id': 'STS.emulated', 'x-fc-access-key-secret': 'emulated-secret', 'x-fc-security-token': 'emulated-token' });
}

/** Headers as one string per name, repeated ones joined by commas, names in the given case. */
function joinedHeaders(pairs: [string, string][], lowerCase: boolean): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [rawName, value] of pairs) {
    const name = lowerCase ? rawName.toLowerCase() : rawName;
    result[name] = result[name] === undefined ? value : `${result[name]},${value}`;
  }
  return result;
}

const TEXT_TYPE = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript))/i;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Event platforms pass text bodies as strings and everything else as base64. */
function eventBodyOf(call: IncomingCall): { body: string; isBase64Encoded: boolean } {
  const type = call.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? '';
  if (call.body.length === 0) return { body: '', isBase64Encoded: false };
  if (TEXT_TYPE.test(type)) {
    try {
      return { body: strictUtf8.decode(call.body), isBase64Encoded: false };
    } catch {
      // not UTF-8 after all
    }
  }
  return { body: call.body.toString('base64'), isBase64Encoded: true };
}

// ---- calling the function -------------------------------------------------------------------------

/** Calls the handler as the runtime does: the returned promise wins, or the callback when one is passed. */
function call(handler: FunctionHandler, args: unknown[], withCallback: boolean): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const callback = (error: unknown, result?: unknown) => (error ? reject(error) : resolve(result));
    try {
      const returned = handler(...args, ...(withCallback ? [callback] : []));
      if (returned && typeof (returned as Promise<unknown>).then === 'function') (returned as Promise<unknown>).then(resolve, reject);
      else if (!withCallback) resolve(returned);
    } catch (error) {
      reject(error);
    }
  });
}

// ---- reading the function's answer ----------------------------------------------------------------

interface EnvelopeRules {
  /** Header values must be strings (`map<string,string>`), or may be string arrays. */
  headerValues: 'string' | 'string-or-array';
  /** Lambda v2 `cookies`, Lambda v1 `multiValueHeaders`. */
  cookiesField?: boolean;
  multiValueHeaders?: boolean;
  /** Keys that must all be present (Aliyun API Gateway answers 503 otherwise). */
  required: string[];
  maxResultBytes: number;
}

function fromEnvelope(result: unknown, rules: EnvelopeRules): OutgoingAnswer {
  if (typeof result !== 'object' || result === null) throw new PlatformRejection(502, 'the function returned no response object');
  const envelope = result as Record<string, unknown>;
  for (const key of rules.required) {
    if (!(key in envelope)) throw new PlatformRejection(502, `the response object lacks "${key}"`);
  }
  const size = Buffer.byteLength(JSON.stringify(envelope));
  if (size > rules.maxResultBytes) throw new PlatformRejection(502, `the response (${size} bytes) exceeds the platform limit of ${rules.maxResultBytes}`);
  const status = envelope.statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) throw new PlatformRejection(502, 'statusCode is not an HTTP status');
  const headers: [string, string][] = [];
  for (const [name, value] of Object.entries((envelope.headers as Record<string, unknown>) ?? {})) {
    if (typeof value === 'string') headers.push([name, value]);
    else if (rules.headerValues === 'string-or-array' && Array.isArray(value)) for (const item of value) headers.push([name, String(item)]);
    else throw new PlatformRejection(502, `header "${name}" is not a string`);
  }
  if (rules.multiValueHeaders && envelope.multiValueHeaders) {
    for (const [name, values] of Object.entries(envelope.multiValueHeaders as Record<string, string[]>)) for (const item of values) headers.push([name, item]);
  }
  if (rules.cookiesField && Array.isArray(envelope.cookies)) for (const cookie of envelope.cookies) headers.push(['set-cookie', String(cookie)]);
  const body = typeof envelope.body === 'string' ? envelope.body : '';
  if (envelope.body !== undefined && typeof envelope.body !== 'string') throw new PlatformRejection(502, 'body is not a string');
  return { status, headers, body: Buffer.from(body, envelope.isBase64Encoded === true ? 'base64' : 'utf8') };
}

// ---- the platforms --------------------------------------------------------------------------------

/** Aliyun FC 3.0 HTTP trigger. help.aliyun.com "HTTP trigger invoking function" (fc-3-0). */
const fc3: EmulatedPlatform = {
  id: 'fc3',
  title: 'Aliyun FC 3.0 HTTP trigger',
  maxRequestBytes: 32 * MB,
  maxResultBytes: 32 * MB,
  async invoke(handler, request) {
    const { path, query } = splitTarget(request.target);
    const requestId = randomUUID();
    const headers = withFcHeaders(joinedHeaders(request.headers, false), requestId);
    const event = {
      version: 'v1',
      rawPath: path,
      ...eventBodyOf(request),
      headers,
      queryParameters: parsedQuery(query, 'comma'),
      requestContext: {
        accountId: '1234567890123456',
        domainName: request.host,
        domainPrefix: request.host.split('.')[0],
        http: { method: request.method, path, protocol: 'HTTP/1.1', sourceIp: request.remoteAddress, userAgent: headers['User-Agent'] ?? headers['user-agent'] ?? '' },
        requestId,
        time: new Date().toUTCString(),
        timeEpoch: String(Date.now()),
      },
    };
    // The runtime hands Node.js functions the event as a Buffer of JSON.
    const result = await call(handler, [Buffer.from(JSON.stringify(event)), { requestId }], false);
    const answer = fromEnvelope(result, { headerValues: 'string', required: ['statusCode'], maxResultBytes: this.maxResultBytes });
    const headerBytes = answer.headers.reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0);
    if (headerBytes > 8 * 1024) throw new PlatformRejection(502, 'response headers exceed 8 KB');
    return answer;
  },
};

/**
 * Aliyun FC 2.0 HTTP trigger: `(req, resp, context)`. help.aliyun.com document 74757. Accept-Encoding
 * is reported (not documented) to be dropped on requests; the emulator keeps it, the reading under
 * which a compressed upstream body would reach the function and lose its Content-Encoding.
 */
const FC2_IGNORED_REQUEST = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'proxy-authorization']);
const FC2_NOT_SETTABLE = new Set(['connection', 'content-length', 'date', 'keep-alive', 'server', 'upgrade', 'content-encoding', 'trailer', 'transfer-encoding']);

const fc2: EmulatedPlatform = {
  id: 'fc2',
  title: 'Aliyun FC 2.0 HTTP trigger',
  maxRequestBytes: 32 * MB,
  maxResultBytes: 32 * MB,
  invoke(handler, request) {
    const { path, query } = splitTarget(request.target);
    const headers: Record<string, string | string[]> = {};
    for (const [rawName, value] of request.headers) {
      const name = rawName.toLowerCase();
      if (FC2_IGNORED_REQUEST.has(name) || name.startsWith('x-fc-')) continue;
      const existing = headers[name];
      headers[name] = existing === undefined ? value : [existing, value].flat();
    }
    // The request is a readable stream of the body, with the parsed parts as properties.
    const req = Object.assign(Readable.from([request.body]), {
      headers: withFcHeaders(headers, randomUUID()),
      path: decode(path),
      queries: parsedQuery(query, 'array'),
      method: request.method,
      clientIP: request.remoteAddress,
      url: request.target,
    });
    return new Promise<OutgoingAnswer>((resolve, reject) => {
      let status = 200;
      const out = new Map<string, string[]>();
      const resp = {
        setStatusCode: (code: number) => void (status = code),
        setHeader: (name: string, value: string | string[]) => {
          const key = name.toLowerCase();
          // The platform silently drops what a function may not set.
          if (FC2_NOT_SETTABLE.has(key) || key.startsWith('x-fc-')) return;
          out.set(key, [value].flat().map(String));
        },
        deleteHeader: (name: string) => void out.delete(name.toLowerCase()),
        send: (body: Buffer | string) => {
          const bytes = Buffer.from(body);
          if (bytes.length > this.maxResultBytes) return reject(new PlatformRejection(502, 'response body exceeds the platform limit'));
          resolve({ status, headers: [...out].flatMap(([name, values]) => values.map((value): [string, string] => [name, value])), body: bytes });
        },
      };
      call(handler, [req, resp, { requestId: randomUUID() }], false).catch(reject);
    });
  },
};

/** Aliyun API Gateway -> FC event function (PASSTHROUGH). help.aliyun.com documents 85208, 54788. */
const aliyunApigw: EmulatedPlatform = {
  id: 'aliyun-apigw',
  title: 'Aliyun API Gateway -> FC event function',
  maxRequestBytes: 8 * MB,
  maxResultBytes: 6 * MB,
  async invoke(handler, request) {
    const { path, query } = splitTarget(request.target);
    const headers = joinedHeaders(request.headers, false);
    headers['X-Forwarded-For'] = request.remoteAddress;
    headers['X-Ca-Request-Id'] = randomUUID();
    withFcHeaders(headers, randomUUID());
    const event = {
      path: decode(path),
      httpMethod: request.method,
      headers,
      queryParameters: parsedQuery(query, 'comma'),
      pathParameters: {},
      ...eventBodyOf(request),
    };
    // The backend timeout serverless.yml gives every API (custom.mpRelay.apiGatewayTimeoutMs).
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      call(handler, [Buffer.from(JSON.stringify(event)), { requestId: randomUUID() }], true),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new PlatformRejection(504, 'backend timeout (20000 ms)')), 20_000))),
    ]).finally(() => clearTimeout(timer));
    // Anything but the four documented fields gives 503.
    try {
      return fromEnvelope(result, { headerValues: 'string', required: ['isBase64Encoded', 'statusCode', 'headers', 'body'], maxResultBytes: this.maxResultBytes });
    } catch (error) {
      throw error instanceof PlatformRejection ? new PlatformRejection(503, error.message) : error;
    }
  },
};

/** Tencent SCF API Gateway trigger, integrated response. cloud.tencent.com document 583/12513. */
const scfApigw: EmulatedPlatform = {
  id: 'scf-apigw',
  title: 'Tencent SCF API Gateway trigger',
  maxRequestBytes: 6 * MB,
  maxResultBytes: 6 * MB,
  async invoke(handler, request) {
    const { path, query } = splitTarget(request.target);
    const requestId = randomUUID();
    const headers = joinedHeaders(request.headers, true);
    headers['x-api-requestid'] = requestId;
    headers['x-anonymous-consumer'] = 'true';
    const queryString = parsedQuery(query, 'array');
    const event = {
      requestContext: { serviceId: 'service-emulated', path, httpMethod: request.method, requestId, identity: {}, sourceIp: request.remoteAddress, stage: 'release' },
      headers,
      ...eventBodyOf(request),
      pathParameters: {},
      queryStringParameters: queryString,
      headerParameters: {},
      stageVariables: { stage: 'release' },
      path: decode(path),
      queryString,
      httpMethod: request.method,
    };
    return scfAnswer(await call(handler, [event, { request_id: requestId }], true), this.maxResultBytes);
  },
};

/** Tencent SCF function URL. cloud.tencent.com document 583/96099. */
const scfUrl: EmulatedPlatform = {
  id: 'scf-url',
  title: 'Tencent SCF function URL',
  maxRequestBytes: 6 * MB,
  maxResultBytes: 6 * MB,
  async invoke(handler, request) {
    const { path, query } = splitTarget(request.target);
    const requestId = randomUUID();
    const headers = joinedHeaders(request.headers, true);
    headers['x-scf-remote-addr'] = request.remoteAddress;
    headers['x-scf-request-id'] = requestId;
    const event = { ...eventBodyOf(request), headers, httpMethod: request.method, path: decode(path), queryString: parsedQuery(query, 'array') };
    return scfAnswer(await call(handler, [event, { request_id: requestId }], true), this.maxResultBytes);
  },
};

function scfAnswer(result: unknown, maxResultBytes: number): OutgoingAnswer {
  return fromEnvelope(result, { headerValues: 'string', required: ['statusCode'], maxResultBytes });
}

/** AWS Lambda function URL (payload format 2.0). docs.aws.amazon.com lambda/latest/dg/urls-invocation.html. */
const lambda: EmulatedPlatform = {
  id: 'lambda',
  title: 'AWS Lambda function URL (payload 2.0)',
  maxRequestBytes: 6 * MB,
  maxResultBytes: 6 * MB,
  async invoke(handler, request) {
    const { path, query } = splitTarget(request.target);
    const requestId = randomUUID();
    const cookies = request.headers.filter(([name]) => name.toLowerCase() === 'cookie').flatMap(([, value]) => value.split(/;\s*/));
    const headers = joinedHeaders(request.headers.filter(([name]) => name.toLowerCase() !== 'cookie'), true);
    headers['x-amzn-trace-id'] = `Root=1-${Date.now().toString(16)}-emulated`;
    const params = parsedQuery(query, 'comma');
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath: path,
      rawQueryString: query,
      ...(cookies.length ? { cookies } : {}),
      headers,
      ...(query ? { queryStringParameters: params } : {}),
      requestContext: {
        accountId: 'anonymous',
        apiId: 'emulated',
        domainName: request.host,
        domainPrefix: request.host.split('.')[0],
        http: { method: request.method, path, protocol: 'HTTP/1.1', sourceIp: request.remoteAddress, userAgent: headers['user-agent'] ?? '' },
        requestId,
        routeKey: '$default',
        stage: '$default',
        time: new Date().toUTCString(),
        timeEpoch: Date.now(),
      },
      ...eventBodyOf(request),
    };
    const result = await call(handler, [event, { awsRequestId: requestId }], false);
    return fromEnvelope(result, { headerValues: 'string', cookiesField: true, required: ['statusCode'], maxResultBytes: this.maxResultBytes });
  },
};

export const PLATFORMS: Record<PlatformId, EmulatedPlatform> = { fc3, fc2, 'aliyun-apigw': aliyunApigw, 'scf-apigw': scfApigw, 'scf-url': scfUrl, lambda };

/** Runs one call through the platform; its own rejections become its own opaque errors. */
export async function invokeThrough(platform: EmulatedPlatform, handler: FunctionHandler, request: IncomingCall): Promise<OutgoingAnswer> {
  if (request.body.length > platform.maxRequestBytes) return platformError(413, `request body exceeds ${platform.maxRequestBytes} bytes`);
  try {
    return await platform.invoke(handler, request);
  } catch (error) {
    if (error instanceof PlatformRejection) return platformError(error.status, error.message);
    return platformError(502, `the function failed: ${String(error)}`);
  }
}
