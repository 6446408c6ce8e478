// The baseline for the event-function benchmark: what someone would write by hand to do the same
// forward on each runtime, and nothing more. Same upstream call as the relay (the `method` query
// parameter as the path, the query minus it, the client's headers, a keep-alive agent with the relay's
// settings), same answer format (text as a string, anything else as base64, as the platforms require),
// but no checks, no limits, no log line.
//
// Each export takes the upstream origin and returns the runtime's handler.
import http from 'node:http';
import { BARE_AGENT_OPTIONS } from './bare-forwarder.mjs';

const TEXT = /^(text\/|application\/json)/;

function forward(origin, agent, method, query, headers, body) {
  const params = new URLSearchParams(query);
  const apiPath = params.get('method') ?? '';
  params.delete('method');
  const search = params.toString();
  const target = new URL(`${origin}/${apiPath.replace(/^\//, '')}${search ? `?${search}` : ''}`);
  return new Promise((resolve, reject) => {
    const outgoing = http.request({ hostname: target.hostname, port: target.port, path: target.pathname + target.search, method, headers: { ...headers, host: target.host }, agent }, (incoming) => {
      const chunks = [];
      incoming.on('data', (chunk) => chunks.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode, headers: incoming.headers, body: Buffer.concat(chunks) }));
      incoming.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** `{statusCode, headers, body, isBase64Encoded}`, the result FC 3.0, SCF and Lambda all take. */
function eventResult({ status, headers, body }) {
  const text = TEXT.test(String(headers['content-type'] ?? ''));
  const single = {};
  for (const [name, value] of Object.entries(headers)) if (name !== 'content-length' && name !== 'connection' && name !== 'keep-alive' && name !== 'transfer-encoding') single[name] = [value].flat().join(', ');
  return { statusCode: status, headers: single, body: body.toString(text ? 'utf8' : 'base64'), isBase64Encoded: !text };
}

const agentFor = () => new http.Agent(BARE_AGENT_OPTIONS);

/** Aliyun FC 3.0: the event is a Buffer of JSON with `queryParameters`. */
export function fc3(origin) {
  const agent = agentFor();
  return async (event) => {
    const e = JSON.parse(event.toString());
    const body = e.body ? Buffer.from(e.body, e.isBase64Encoded ? 'base64' : 'utf8') : undefined;
    return eventResult(await forward(origin, agent, e.requestContext.http.method, new URLSearchParams(e.queryParameters ?? {}).toString(), e.headers, body));
  };
}

/** Tencent SCF, API Gateway event: `queryString` and `httpMethod`. */
export function scf(origin) {
  const agent = agentFor();
  return async (event) => {
    const body = event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : undefined;
    return eventResult(await forward(origin, agent, event.httpMethod, new URLSearchParams(event.queryString ?? {}).toString(), event.headers, body));
  };
}

/** AWS Lambda function URL, payload 2.0: `rawQueryString`. */
export function lambda(origin) {
  const agent = agentFor();
  return async (event) => {
    const body = event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : undefined;
    return eventResult(await forward(origin, agent, event.requestContext.http.method, event.rawQueryString, event.headers, body));
  };
}

/** Aliyun FC 2.0 HTTP trigger: `(req, resp)`, the body sent raw through resp.send (no base64). */
export function fc2(origin) {
  const agent = agentFor();
  return async (req, resp) => {
    const answer = await forward(origin, agent, req.method, new URLSearchParams(req.queries ?? {}).toString(), req.headers, req.body);
    resp.setStatusCode(answer.status);
    for (const [name, value] of Object.entries(answer.headers)) if (name !== 'content-length' && name !== 'connection' && name !== 'keep-alive' && name !== 'transfer-encoding') resp.setHeader(name, value);
    resp.send(answer.body);
  };
}
