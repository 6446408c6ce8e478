import { redactQuery } from './query';

// One JSON line per request, which every cloud's log service can index. Headers are never logged
// (they carry Authorization and Cookie), and secret-looking query values are masked.
//
// A line is written for every request, so it is built cheaply: one fixed-shape record, serialised by
// hand in a fixed field order (no object spread, no JSON.stringify of a fresh object each time).

export interface RequestLog {
  requestId: string;
  fn: string;
  method: string;
  /** Upstream path, when the request got that far. */
  path: string | undefined;
  query: string | undefined;
  status: number;
  ms: number;
  bytesIn: number;
  bytesOut: number;
  error: string | undefined;
  /** What went wrong, for unexpected failures only. */
  detail: string | undefined;
}

/** Takes one complete line (no newline). */
export type LogSink = (line: string) => void;

/**
 * For event functions: the platform collects stdout per invocation, so each line is written at once,
 * before the invocation returns and the instance may be frozen.
 */
export const stdoutSink: LogSink = (line) => {
  process.stdout.write(`${line}\n`);
};

/** Where a server's lines go: process.stdout, or anything that says how much it still holds unwritten. */
export interface LogOutput {
  write(text: string): unknown;
  readonly writableLength: number;
}

/** Unwritten log text a server may hold before it drops lines (a log reader that stopped reading). */
export const LOG_BACKLOG_BYTES = 4 * 1024 * 1024;

/**
 * For long-running servers: the lines of one event-loop turn go out in one write, instead of a system
 * call per request. If the output stops taking them (a full pipe nobody reads), lines are dropped past
 * LOG_BACKLOG_BYTES rather than held without bound, and a line says how many. Anything pending is
 * written when the process exits.
 */
export function bufferedSink(output: LogOutput = process.stdout): LogSink {
  let pending = '';
  let dropped = 0;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    if (pending === '' && dropped === 0) return;
    if (output.writableLength > LOG_BACKLOG_BYTES) {
      dropped += countLines(pending);
      // The count must come out even if no line follows: try again once the output may have drained.
      retry ??= setTimeout(() => {
        retry = undefined;
        flush();
      }, 1000).unref();
    } else {
      if (dropped > 0) {
        pending = `{"time":"${isoNow()}","level":"warn","event":"logLinesDropped","count":${dropped}}\n${pending}`;
        dropped = 0;
      }
      output.write(pending);
    }
    pending = '';
  };
  process.once('exit', flush);
  return (line) => {
    if (pending === '') setImmediate(flush);
    pending += `${line}\n`;
  };
}

function countLines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return count;
}

/** Strings that JSON.stringify would print as they are between quotes. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function jsonString(value: string): string {
  return PLAIN.test(value) ? `"${value}"` : JSON.stringify(value);
}

// Many lines share a millisecond under load; its ISO form is made once.
let clockMs = -1;
let clockText = '';

function isoNow(): string {
  const now = Date.now();
  if (now !== clockMs) {
    clockMs = now;
    clockText = new Date(now).toISOString();
  }
  return clockText;
}

/** The line for one request: the same JSON as stringifying the entry with `time` first, minus absent fields. */
export function formatRequestLog(entry: RequestLog, time: string = isoNow()): string {
  let line = `{"time":"${time}","requestId":${jsonString(entry.requestId)},"fn":${jsonString(entry.fn)},"method":${jsonString(entry.method)}`;
  if (entry.path !== undefined) line += `,"path":${jsonString(entry.path)}`;
  if (entry.query !== undefined) line += `,"query":${jsonString(redactQuery(entry.query))}`;
  line += `,"status":${entry.status},"ms":${entry.ms},"bytesIn":${entry.bytesIn},"bytesOut":${entry.bytesOut}`;
  if (entry.error !== undefined) line += `,"error":${jsonString(entry.error)}`;
  if (entry.detail !== undefined) line += `,"detail":${jsonString(entry.detail)}`;
  return `${line}}`;
}
