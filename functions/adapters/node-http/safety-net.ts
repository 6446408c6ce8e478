import { AsyncLocalStorage } from 'node:async_hooks';
import type { ServerResponse } from 'node:http';
import { errorResponse, RelayError } from '../../core/errors';
import { stdoutSink, type LogSink } from '../../core/log';
import { writeResponse } from './handler';

// The last resort of the long-running servers (local server, web function). Every known fault has its
// own handling where its rule lives; this is for the one nobody foresaw. An error thrown from a callback
// would end the process and every request in it; instead it is logged as JSON with the request it
// happened in, and that request is answered 502 UNEXPECTED. Event functions need no net: the platform
// runs one call per instance and reports a crash itself.

export interface RequestScope {
  requestId: string;
  res: ServerResponse;
}

/** The request whose code is running, whatever callback or promise it reached. */
export const requestScope = new AsyncLocalStorage<RequestScope>();

let installed = false;

export function installSafetyNet(log: LogSink = stdoutSink): void {
  if (installed) return;
  installed = true;
  process.on('uncaughtException', (error) => answerUnexpected('uncaughtException', error, requestScope.getStore(), log));
  process.on('unhandledRejection', (error) => answerUnexpected('unhandledRejection', error, requestScope.getStore(), log));
}

/** Logs a failure no rule foresaw, as JSON with its request, and answers that request 502 UNEXPECTED. */
export function answerUnexpected(kind: string, error: unknown, scope: RequestScope | undefined, log: LogSink = stdoutSink): void {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  log(JSON.stringify({ time: new Date().toISOString(), level: 'error', event: kind, requestId: scope?.requestId ?? null, detail }));
  if (!scope) return;
  if (scope.res.headersSent) scope.res.destroy();
  else writeResponse(scope.res, errorResponse(new RelayError('UNEXPECTED', 'the relay failed unexpectedly; the request may or may not have reached the backend'), scope.requestId));
}
