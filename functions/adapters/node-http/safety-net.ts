import type { ServerResponse } from 'node:http';
import { errorResponse, RelayError } from '../../core/errors';
import { stdoutSink, type LogSink } from '../../core/log';
import { writeResponse } from './handler';

// The last resort of the long-running servers (local server, web function). Every known fault has its
// own handling where its rule lives; this is for the one nobody foresaw. An error thrown from a callback
// would end the process and every request in it; instead it is logged as JSON, and the request it
// happened in is answered 502 UNEXPECTED. Event functions need no net: the platform runs one call per
// instance and reports a crash itself.
//
// Which request that is, the net cannot see. With one request in flight it takes the fault for that
// request's (answered 502, or cut short if its answer had begun). AsyncLocalStorage would tell under
// concurrency too, but on Node 20 it works through async hooks that run for every promise, timer and
// socket of every request. So with several requests in flight the line lists their ids instead, and
// none of them is answered in its place.

export interface RequestScope {
  requestId: string;
  res: ServerResponse;
}

const inflight = new Set<RequestScope>();

/** Marks a request as in flight until the returned function is called. */
export function trackRequest(scope: RequestScope): () => void {
  inflight.add(scope);
  return () => inflight.delete(scope);
}

let installed = false;

export function installSafetyNet(log: LogSink = stdoutSink): void {
  if (installed) return;
  installed = true;
  process.on('uncaughtException', (error) => answerUnexpected('uncaughtException', error, soleRequest(), log));
  process.on('unhandledRejection', (error) => answerUnexpected('unhandledRejection', error, soleRequest(), log));
}

function soleRequest(): RequestScope | undefined {
  if (inflight.size !== 1) return undefined;
  const [scope] = inflight;
  return scope;
}

/**
 * Logs a failure no rule foresaw, as JSON with its request (or, when that cannot be told, the requests in
 * flight), and answers that request 502 UNEXPECTED.
 */
export function answerUnexpected(kind: string, error: unknown, scope: RequestScope | undefined, log: LogSink = stdoutSink): void {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  const requestId = scope?.requestId ?? null;
  const inFlight = scope ? undefined : [...inflight].slice(0, 100).map((each) => each.requestId);
  log(JSON.stringify({ time: new Date().toISOString(), level: 'error', event: kind, requestId, inFlight, detail }));
  if (!scope) return;
  if (scope.res.headersSent) scope.res.destroy();
  else writeResponse(scope.res, errorResponse(new RelayError('UNEXPECTED', 'the relay failed unexpectedly; the request may or may not have reached the backend'), scope.requestId));
}
