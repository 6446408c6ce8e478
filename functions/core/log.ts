import { redactQuery } from './query';

// One JSON line per request, which every cloud's log service can index. Headers are never logged
// (they carry Authorization and Cookie), and secret-looking query values are masked.

export interface RequestLog {
  requestId: string;
  fn: string;
  method: string;
  /** Upstream path, when the request got that far. */
  path?: string;
  query?: string;
  status: number;
  ms: number;
  bytesIn: number;
  bytesOut: number;
  error?: string;
  /** What went wrong, for unexpected failures only. */
  detail?: string;
}

export type LogSink = (line: string) => void;

export const stdoutSink: LogSink = (line) => {
  process.stdout.write(`${line}\n`);
};

export function writeRequestLog(sink: LogSink, entry: RequestLog): void {
  const { requestId, fn, method, path, query, status, ms, bytesIn, bytesOut, error, detail } = entry;
  const line = { time: new Date().toISOString(), requestId, fn, method, path, query: query === undefined ? undefined : redactQuery(query), status, ms, bytesIn, bytesOut, error, detail };
  sink(JSON.stringify(line));
}
