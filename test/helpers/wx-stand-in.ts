import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

// A stand-in for the parts of `wx` the client uses, doing real HTTP over loopback with the semantics
// WeChat documents: GET data goes to the query; other methods send objects as JSON by default;
// dataType 'json' parses the body when it can; `success` fires for any status and `fail` only when
// no answer came; several Set-Cookie reach the page joined into one header (and listed in `cookies`);
// downloadFile writes the file whatever the status; at most 10 calls may be in flight, the three kinds
// counted together (https://developers.weixin.qq.com/miniprogram/dev/framework/ability/network.html);
// every call returns its task, whose onHeadersReceived listeners get the answer's headers before
// `success`; a failure carries `errno` (https://developers.weixin.qq.com/miniprogram/dev/framework/usability/PublicErrno.html),
// 600002 for a URL outside the domain lists when `domains` is given.

export interface WxStandIn {
  request(options: any): Task;
  downloadFile(options: any): Task;
  uploadFile(options: any): Task;
  getStorageSync(key: string): any;
  setStorageSync(key: string, value: any): void;
  getFileSystemManager(): { readFileSync(file: string, encoding?: string): string | ArrayBuffer };
  /** Every call made, in order: `GET http://...`. */
  log: string[];
  /** The options of every call, in order, as the client passed them. */
  calls: { kind: string; options: any }[];
  /** The most calls that were in flight at once. */
  peakInFlight(): number;
  /** Calls in flight now. */
  inFlight(): number;
  storage: Map<string, any>;
}

const MAX_IN_FLIGHT = 10;

interface Sent {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function send(url: string, method: string, headers: Record<string, string>, body: Buffer | undefined, timeout: number, call: Call): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(timeout, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', reject);
    call.onAbort = () => req.destroy(Object.assign(new Error('abort'), { code: 'ABORT' }));
    if (call.progress) {
      // Progress in two steps, as WeChat reports it while bytes move: headers sent, then done.
      req.on('response', (res) => {
        const total = Number(res.headers['content-length'] ?? 0);
        call.progress!({ progress: 50, totalBytesWritten: Math.floor(total / 2), totalBytesExpectedToWrite: total });
        res.on('end', () => call.progress!({ progress: 100, totalBytesWritten: total, totalBytesExpectedToWrite: total }));
      });
    }
    req.end(body);
  });
}

/** WeChat hands the page one header object; several Set-Cookie arrive joined by ", ". */
function pageHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const title = name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
    result[title] = Array.isArray(value) ? value.join(', ') : value;
  }
  return result;
}

export interface WxStandInOptions {
  /** Newer base libraries also list Set-Cookie values in `cookies`; older ones only merge them into the header. */
  cookiesField?: boolean;
  /** The mini program's domain lists (origins); unset: every URL may be called. */
  domains?: string[];
  /** Tasks without onHeadersReceived, as base libraries before it existed. */
  noHeaderEvents?: boolean;
  /** setStorageSync throws, as when the mini program's 10 MB of storage is full. */
  storageFull?: boolean;
  /** Tasks that never call back (neither success nor fail), until aborted. */
  silent?: boolean;
  /** Every task fails at once with this. */
  failAll?: { errMsg: string; errno?: number };
}

interface Task {
  abort(): void;
  onHeadersReceived?(listener: (result: { header: Record<string, string> }) => void): void;
  onProgressUpdate(listener: (result: Record<string, number>) => void): void;
}

/** What one call's HTTP exchange reports to its task. */
interface Call {
  onAbort?: () => void;
  progress?: (result: Record<string, number>) => void;
}

/** wx.request's `method` values, as its documentation lists them. */
const WX_REQUEST_METHODS = ['OPTIONS', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'CONNECT'];

/** errno of "the network failed" (600001, net::ERR_*) and of "url not in domain list". */
const NETWORK_FAILED = 600001;
const NOT_IN_DOMAIN_LIST = 600002;

export function createWxStandIn(settings: WxStandInOptions = {}): WxStandIn {
  const cookiesField = settings.cookiesField ?? true;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mp-relay-wx-'));
  const storage = new Map<string, any>();
  const log: string[] = [];
  const calls: { kind: string; options: any }[] = [];
  let inFlight = 0;
  let peak = 0;

  /**
   * Runs one network task under WeChat's limit, calling success/fail/complete as wx does, and returns
   * the task. `run` gets a function to hand the headers to onHeadersReceived listeners.
   */
  function task(kind: string, options: any, run: (headersReceived: (header: Record<string, string>) => void, call: Call) => Promise<Record<string, unknown>>): Task {
    calls.push({ kind, options });
    const listeners: ((result: { header: Record<string, string> }) => void)[] = [];
    const call: Call = {};
    let aborted = false;
    const handle: Task = {
      abort: () => {
        aborted = true;
        call.onAbort?.();
      },
      onProgressUpdate: (listener) => void (call.progress = listener),
    };
    if (!settings.noHeaderEvents) handle.onHeadersReceived = (listener) => void listeners.push(listener);
    const failWith = (result: Record<string, unknown>) =>
      setTimeout(() => {
        options.fail?.(result);
        options.complete?.(result);
      });
    if (settings.domains && !settings.domains.some((origin) => String(options.url).startsWith(`${origin}/`))) {
      failWith({ errno: NOT_IN_DOMAIN_LIST, errMsg: `${kind}:fail url not in domain list` });
      return handle;
    }
    if (inFlight >= MAX_IN_FLIGHT) {
      failWith({ errMsg: `${kind}:fail exceed max task count` });
      return handle;
    }
    if (settings.failAll) {
      failWith({ ...settings.failAll });
      return handle;
    }
    if (settings.silent) {
      inFlight++;
      peak = Math.max(peak, inFlight);
      handle.abort = () => {
        inFlight--;
        failWith({ errMsg: `${kind}:fail abort` });
      };
      return handle;
    }
    inFlight++;
    peak = Math.max(peak, inFlight);
    // Started on the next turn, as WeChat does: the caller has its task (and its listeners on it) first.
    Promise.resolve().then(() => (aborted ? Promise.reject(Object.assign(new Error('abort'), { code: 'ABORT' })) : run((header) => listeners.forEach((listener) => listener({ header })), call))).then(
      (result) => {
        inFlight--;
        options.success?.({ ...result, errMsg: `${kind}:ok` });
        options.complete?.(result);
      },
      (error: NodeJS.ErrnoException) => {
        inFlight--;
        const result =
          error.code === 'TIMEOUT' ? { errMsg: `${kind}:fail timeout` } : error.code === 'ABORT' ? { errMsg: `${kind}:fail abort` } : { errno: NETWORK_FAILED, errMsg: `${kind}:fail ${error.message}` };
        options.fail?.(result);
        options.complete?.(result);
      },
    );
    return handle;
  }

  return {
    log,
    calls,
    storage,
    peakInFlight: () => peak,
    inFlight: () => inFlight,

    request(options: any) {
      const method = (options.method ?? 'GET').toUpperCase();
      // The methods wx.request documents (no PATCH):
      // https://developers.weixin.qq.com/miniprogram/dev/api/network/request/wx.request.html
      if (!WX_REQUEST_METHODS.includes(method)) return task('request', options, async () => Promise.reject(new Error(`invalid method ${method}`)));
      let url: string = options.url;
      const header: Record<string, string> = { ...options.header };
      let body: Buffer | undefined;
      const data = options.data;
      if (method === 'GET' && data && typeof data === 'object') {
        const query = new URLSearchParams(Object.entries(data).map(([k, v]): [string, string] => [k, String(v)])).toString();
        if (query) url += (url.includes('?') ? '&' : '?') + query;
      } else if (data !== undefined) {
        const type = Object.entries(header).find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? 'application/json';
        if (!Object.keys(header).some((name) => name.toLowerCase() === 'content-type')) header['content-type'] = type;
        if (data instanceof ArrayBuffer) body = Buffer.from(data);
        else if (typeof data === 'string') body = Buffer.from(data);
        else if (/json/i.test(type)) body = Buffer.from(JSON.stringify(data));
        else body = Buffer.from(new URLSearchParams(Object.entries(data).map(([k, v]): [string, string] => [k, String(v)])).toString());
      }
      log.push(`${method} ${url}`);
      return task('request', options, async (headersReceived, call) => {
        const answer = await send(url, method, header, body, options.timeout ?? 60_000, call);
        headersReceived(pageHeaders(answer.headers));
        let parsed: unknown = options.responseType === 'arraybuffer' ? answer.body.buffer.slice(answer.body.byteOffset, answer.body.byteOffset + answer.body.length) : answer.body.toString('utf8');
        if ((options.dataType ?? 'json') === 'json' && typeof parsed === 'string') {
          try {
            parsed = JSON.parse(parsed);
          } catch {
            // left as text, as WeChat does
          }
        }
        return { statusCode: answer.status, data: parsed, header: pageHeaders(answer.headers), ...(cookiesField ? { cookies: [answer.headers['set-cookie'] ?? []].flat() } : {}) };
      });
    },

    downloadFile(options: any) {
      log.push(`DOWNLOAD ${options.url}`);
      return task('downloadFile', options, async (headersReceived, call) => {
        const answer = await send(options.url, 'GET', { ...options.header }, undefined, options.timeout ?? 60_000, call);
        headersReceived(pageHeaders(answer.headers));
        const tempFilePath = path.join(dir, `${randomUUID()}.tmp`);
        writeFileSync(tempFilePath, answer.body);
        return { tempFilePath, statusCode: answer.status };
      });
    },

    uploadFile(options: any) {
      log.push(`UPLOAD ${options.url}`);
      return task('uploadFile', options, async (headersReceived, call) => {
        const boundary = `----WeChatStandIn${randomUUID().replace(/-/g, '')}`;
        const parts: Buffer[] = [];
        for (const [name, value] of Object.entries<string>(options.formData ?? {})) {
          parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
        }
        parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${options.name}"; filename="${path.basename(options.filePath)}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
        parts.push(readFileSync(options.filePath), Buffer.from(`\r\n--${boundary}--\r\n`));
        const header = { ...options.header, 'content-type': `multipart/form-data; boundary=${boundary}` };
        const answer = await send(options.url, 'POST', header, Buffer.concat(parts), options.timeout ?? 60_000, call);
        headersReceived(pageHeaders(answer.headers));
        return { statusCode: answer.status, data: answer.body.toString('utf8') };
      });
    },

    getStorageSync: (key) => (storage.has(key) ? JSON.parse(JSON.stringify(storage.get(key))) : ''),
    setStorageSync: (key, value) => {
      if (settings.storageFull) throw new Error('setStorageSync:fail exceed storage max size 10M');
      storage.set(key, JSON.parse(JSON.stringify(value)));
    },
    getFileSystemManager: () => ({
      readFileSync: (file: string, encoding?: string) => (encoding ? readFileSync(file, encoding as BufferEncoding) : readFileSync(file).buffer as ArrayBuffer),
    }),
  };
}
