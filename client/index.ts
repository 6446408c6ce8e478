/// <reference types="miniprogram-api-typings" />
// mp-relay client for WeChat mini programs: speaks the relay's contract over wx.request,
// wx.downloadFile and wx.uploadFile. Plain ES2017 with no dependencies and no Node built-ins, bundled
// into one file (dist/client/index.js) that can be copied into a mini program or used through its npm build.
import { createCookieJar, setCookiesOf } from './cookies';
import { headerValue, isTransient, networkError, RelayError, relayErrorOf, type WxFailure } from './errors';
import { createQueue, wechatTasks, WECHAT_MAX_TASKS, type Queue } from './queue';
import { encodeQuery, type ArrayFormat, type Query } from './query';

export { RelayError, type RelayErrorCode, type WxFailure } from './errors';
export { splitSetCookie } from './cookies';
export { encodeQuery, type ArrayFormat, type Query, type QueryValue } from './query';
export { WECHAT_MAX_TASKS } from './queue';

/** The part of `wx` the client uses; pass your own (or a test stand-in) as `options.wx`. */
export type WxApi = Pick<WechatMiniprogram.Wx, 'request' | 'downloadFile' | 'uploadFile' | 'getStorageSync' | 'setStorageSync' | 'getFileSystemManager'>;

export interface RelayClientOptions {
  /** The relay's origin: `https://api.example.cn` (no trailing path). */
  baseUrl: string;
  /** The parameter carrying the API path (RELAY_PATH_PARAM on the relay). Default `method`. */
  pathParam?: string;
  /** `query` (default): `/get?method=api/users`. `path`: `/get/api/users` (needs a route for `/get/*`). */
  style?: 'query' | 'path';
  /**
   * Milliseconds per call, retries included, for requests, downloads and uploads. Unset (the default):
   * none is passed, so app.json's `networkTimeout` applies.
   */
  timeout?: number;
  /** Headers sent with every call. */
  header?: Record<string, string>;
  /** Keep the backend's cookies in wx storage and send them back (mini programs keep none). */
  cookies?: boolean;
  /**
   * Calls of this client in flight at once (at most 10). All clients of a mini program also share
   * WeChat's own limit of 10 requests, downloads and uploads together.
   */
  maxConcurrent?: number;
  /** How arrays in a query are written (default `repeat`); see ArrayFormat. */
  arrayFormat?: ArrayFormat;
  /** Defaults to the global `wx`. */
  wx?: WxApi;
}

/** wx.request options passed through as they are. */
export interface WxRequestFlags {
  /** `arraybuffer` gives `data` as an ArrayBuffer (binary answers). */
  responseType?: 'text' | 'arraybuffer';
  /** `json` (default) parses JSON answers; anything else leaves the text. */
  dataType?: string;
  enableHttp2?: boolean;
  enableQuic?: boolean;
  enableCache?: boolean;
}

export interface RequestOptions extends WxRequestFlags {
  header?: Record<string, string>;
  /** Milliseconds for this call, retries included. */
  timeout?: number;
  arrayFormat?: ArrayFormat;
  /** Downloads and uploads: WeChat's progress events (`progress`, bytes so far, bytes expected). */
  onProgress?: (progress: { progress: number; totalBytesWritten?: number; totalBytesExpectedToWrite?: number; totalBytesSent?: number; totalBytesExpectedToSend?: number }) => void;
  /** The answer's headers, as soon as they arrive. */
  onHeadersReceived?: (result: { header: Record<string, string> }) => void;
}

export interface RelayResponse<T = unknown> {
  statusCode: number;
  data: T;
  header: Record<string, string>;
  /** Set-Cookie values of this response, one per cookie. */
  cookies: string[];
}

export interface DownloadResult {
  tempFilePath: string;
  statusCode: number;
}

export interface UploadOptions extends RequestOptions {
  filePath: string;
  /** The multipart field name of the file. */
  name: string;
  formData?: Record<string, string>;
}

export interface UploadResult<T = unknown> {
  statusCode: number;
  /** Parsed as JSON when it is JSON, else the text. */
  data: T;
}

/** Every call's promise can be aborted, as a RequestTask can: it rejects with code `ABORTED` and is never retried. */
export type RelayPromise<T> = Promise<T> & { abort(): void };

/** One call as the request interceptors see it; they may change any field and return it (or a promise of it). */
export interface CallConfig extends RequestOptions {
  kind: 'request' | 'download' | 'upload';
  /** PATCH is sent as a POST to `post` with `X-HTTP-Method-Override: PATCH`: wx.request has no PATCH. */
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  /** The relay function: `get`, `post`, `put`, `getDownImg`, `delete`. */
  fn: string;
  /** The API path. */
  path: string;
  query?: Query;
  data?: unknown;
  header: Record<string, string>;
  /** Uploads. */
  filePath?: string;
  name?: string;
  formData?: Record<string, string>;
}

export type RequestInterceptor = (config: CallConfig) => CallConfig | Promise<CallConfig>;
export type ResponseInterceptor = (result: any) => any;
export type ErrorInterceptor = (error: any) => any;

export interface Interceptors {
  /** Run before each call, in the order added. */
  request: { use(onConfig: RequestInterceptor): void };
  /** Run on each answer (or failure), in the order added; an error handler may return a value to recover. */
  response: { use(onAnswer?: ResponseInterceptor, onError?: ErrorInterceptor): void };
}

export interface RelayClient {
  get<T = unknown>(path: string, query?: Query, options?: RequestOptions): RelayPromise<RelayResponse<T>>;
  /** `data` goes as JSON. With an empty `path`, a `method` field in `data` names the API (the original PHP proxy's way). */
  post<T = unknown>(path: string, data?: unknown, options?: RequestOptions): RelayPromise<RelayResponse<T>>;
  put<T = unknown>(path: string, data?: unknown, options?: RequestOptions): RelayPromise<RelayResponse<T>>;
  /** DELETE through the relay's `delete` function; `query` goes in the URL, as with `get`. */
  delete<T = unknown>(path: string, query?: Query, options?: RequestOptions): RelayPromise<RelayResponse<T>>;
  /**
   * PATCH, sent as a POST to `post` with `X-HTTP-Method-Override: PATCH` (wx.request cannot send PATCH).
   * The backend must honour that header: Laravel and Rails do by default, Express with method-override.
   */
  patch<T = unknown>(path: string, data?: unknown, options?: RequestOptions): RelayPromise<RelayResponse<T>>;
  downloadImage(path: string, query?: Query, options?: RequestOptions): RelayPromise<DownloadResult>;
  upload<T = unknown>(path: string, options: UploadOptions): RelayPromise<UploadResult<T>>;
  interceptors: Interceptors;
  /** The stored cookies as a Cookie header value, and a way to forget them (on logout). */
  cookieHeader(path?: string): string;
  clearCookies(): void;
}

/** A retry is not started with less than this left of the caller's time. */
const MIN_RETRY_MS = 100;
/** How long past its timeout a task may go without WeChat calling back before the client gives up on it. */
const GUARD_MS = 1000;

/** What a call in progress can be stopped by: the WeChat task once there is one. */
interface Control {
  aborted: boolean;
  task?: { abort(): void };
}

type Task = { abort(): void; onHeadersReceived?(listener: (result: { header: Record<string, string> }) => void): void; onProgressUpdate?(listener: (result: any) => void): void };

const abortedError = () => new RelayError('ABORTED', 0, 'the call was aborted', undefined, { errMsg: 'abort' });
const timeoutError = () => new RelayError('TIMEOUT', 0, 'the call ran out of its time', undefined, { errMsg: 'timeout' });

export function createRelay(options: RelayClientOptions): RelayClient {
  const found: WxApi | undefined = options.wx || (typeof wx === 'undefined' ? undefined : wx);
  if (!found) throw new Error('mp-relay: no wx; pass options.wx outside a mini program');
  const wxApi = found;
  const base = options.baseUrl.replace(/\/+$/, '');
  const param = options.pathParam || 'method';
  const style = options.style || 'query';
  if (options.maxConcurrent !== undefined && !(Number.isInteger(options.maxConcurrent) && options.maxConcurrent >= 1 && options.maxConcurrent <= WECHAT_MAX_TASKS)) {
    throw new TypeError(`mp-relay: maxConcurrent must be a whole number from 1 to ${WECHAT_MAX_TASKS} (got ${String(options.maxConcurrent)})`);
  }
  checkedTimeout(options.timeout);
  // This client's own cap, inside the mini program's shared one.
  const own: Queue | undefined = options.maxConcurrent && options.maxConcurrent < WECHAT_MAX_TASKS ? createQueue(options.maxConcurrent) : undefined;
  const schedule = <T>(task: () => Promise<T>): Promise<T> => (own ? own.run(() => wechatTasks.run(task)) : wechatTasks.run(task));
  const jar = options.cookies ? createCookieJar(wxApi) : undefined;
  const requestInterceptors: RequestInterceptor[] = [];
  const responseInterceptors: [ResponseInterceptor | undefined, ErrorInterceptor | undefined][] = [];

  const urlOf = (config: CallConfig) => {
    const apiPath = config.path.replace(/^\/+/, '');
    const pairs: string[] = [];
    if (apiPath && style === 'query') pairs.push(`${encodeURIComponent(param)}=${encodeURIComponent(apiPath)}`);
    const rest = encodeQuery(config.query, config.arrayFormat || options.arrayFormat);
    if (rest) pairs.push(rest);
    const prefix = apiPath && style === 'path' ? `${base}/${config.fn}/${apiPath.split('/').map(encodeURIComponent).join('/')}` : `${base}/${config.fn}`;
    return pairs.length ? `${prefix}?${pairs.join('&')}` : prefix;
  };
  const headerFor = (config: CallConfig) => {
    const header: Record<string, string> = mergeHeaders({}, config.header);
    const cookie = jar ? jar.header(config.path) : '';
    if (cookie) {
      const given = headerKey(header, 'cookie');
      if (given === undefined) header.Cookie = cookie;
      else header[given] = `${header[given]}; ${cookie}`;
    }
    return header;
  };

  /**
   * Starts the WeChat task for one try, wiring abort, progress and header events. `deadline` (epoch ms)
   * is the caller's whole budget: what is left of it when the task really starts (after any wait in the
   * queue) is the task's timeout, and a task that outlives it by GUARD_MS without WeChat calling back is
   * aborted, so its queue slot is never held for good.
   */
  function sendOnce(config: CallConfig, control: Control, deadline: number | undefined): Promise<unknown> {
    return schedule(
      () =>
        new Promise<unknown>((outerResolve, outerReject) => {
          if (control.aborted) return outerReject(abortedError());
          const timeout = deadline === undefined ? undefined : Math.floor(deadline - Date.now());
          if (timeout !== undefined && timeout <= 0) return outerReject(timeoutError());
          let guard: ReturnType<typeof setTimeout> | undefined;
          const settle = (done: () => void) => {
            if (guard !== undefined) clearTimeout(guard);
            done();
          };
          const resolve = (value: unknown) => settle(() => outerResolve(value));
          const reject = (error: unknown) => settle(() => outerReject(error));
          // A throw inside a success handler (wx storage full, say) must still settle the call.
          const answer = (handle: () => void) => {
            try {
              handle();
            } catch (error) {
              reject(error);
            }
          };
          let header: Record<string, unknown> | undefined;
          const timing = timeout !== undefined ? { timeout } : {};
          const fail = (error: WxFailure) => reject(control.aborted ? abortedError() : networkError(error));
          let task: Task;
          try {
            if (config.kind === 'request') {
              const requestHeader = headerFor(config);
              const sendsBody = config.method !== 'GET' && config.method !== 'DELETE';
              if (sendsBody && !hasHeader(requestHeader, 'content-type')) requestHeader['content-type'] = 'application/json';
              if (config.method === 'PATCH') mergeHeaders(requestHeader, { 'X-HTTP-Method-Override': 'PATCH' });
              task = wxApi.request({
                url: urlOf(config),
                method: config.method === 'PATCH' ? 'POST' : config.method,
                data: sendsBody ? (config.data as WechatMiniprogram.IAnyObject) : undefined,
                header: requestHeader,
                dataType: config.dataType || 'json',
                ...passThrough(config),
                ...timing,
                success: (res) =>
                  answer(() => {
                    const setCookies = setCookiesOf(res);
                    if (jar) jar.store(setCookies);
                    const relayError = relayErrorOf(res.statusCode, res.header, () => (typeof res.data === 'string' ? parseJson(res.data) : res.data));
                    if (relayError) reject(relayError);
                    else resolve({ statusCode: res.statusCode, data: res.data, header: res.header as Record<string, string>, cookies: setCookies });
                  }),
                fail,
              }) as unknown as Task;
            } else if (config.kind === 'download') {
              task = wxApi.downloadFile({
                url: urlOf(config),
                header: headerFor(config),
                ...timing,
                success: (res) =>
                  answer(() => {
                    if (res.statusCode >= 200 && res.statusCode < 300) return resolve({ tempFilePath: res.tempFilePath, statusCode: res.statusCode });
                    // WeChat writes the file whatever the status: here it holds the error, not an image.
                    reject(relayErrorOf(res.statusCode, header, () => readText(wxApi, res.tempFilePath)) || new RelayError('BAD_STATUS', res.statusCode, `the backend answered ${res.statusCode}`));
                  }),
                fail,
              }) as unknown as Task;
            } else {
              // The path goes in the URL so the multipart body passes through the relay untouched.
              task = wxApi.uploadFile({
                url: urlOf(config),
                filePath: config.filePath!,
                name: config.name!,
                formData: config.formData,
                header: headerFor(config),
                ...timing,
                success: (res) =>
                  answer(() => {
                    const data = parseJson(res.data);
                    const relayError = relayErrorOf(res.statusCode, header, () => data);
                    if (relayError) reject(relayError);
                    else resolve({ statusCode: res.statusCode, data });
                  }),
                fail,
              }) as unknown as Task;
            }
          } catch (error) {
            return reject(networkError({ errMsg: `${config.kind}:fail ${error instanceof Error ? error.message : String(error)}` }));
          }
          control.task = task;
          if (timeout !== undefined) {
            guard = setTimeout(() => {
              if (task) task.abort();
              reject(timeoutError());
            }, timeout + GUARD_MS);
          }
          if (!task) return;
          // The relay names its own errors in a header; downloads and uploads show headers only here.
          if (typeof task.onHeadersReceived === 'function') {
            task.onHeadersReceived((res) => {
              header = res.header;
              if (config.onHeadersReceived) config.onHeadersReceived(res);
            });
          }
          if (config.onProgress && typeof task.onProgressUpdate === 'function') task.onProgressUpdate(config.onProgress);
        }),
    );
  }

  /** One call: request interceptors, the tries, response interceptors; abortable throughout. */
  function start<T>(config: CallConfig): RelayPromise<T> {
    const control: Control = { aborted: false };
    let rejectNow: (error: unknown) => void = () => undefined;
    const promise = new Promise<T>((resolve, reject) => {
      rejectNow = reject;
      let configured: Promise<CallConfig> = Promise.resolve(config);
      requestInterceptors.forEach((interceptor) => (configured = configured.then(interceptor)));
      let answered: Promise<unknown> = configured.then((final) =>
        // Only a call that may be repeated is sent twice: a POST, PUT, PATCH or DELETE that failed may have been acted on (a repeated DELETE would answer 404).
        withRetry((deadline) => sendOnce(final, control, deadline), checkedTimeout(final.timeout !== undefined ? final.timeout : options.timeout), final.method === 'GET' && final.kind !== 'upload', control),
      );
      responseInterceptors.forEach(([onAnswer, onError]) => (answered = answered.then(onAnswer, onError)));
      answered.then(resolve as (value: unknown) => void, reject);
    }) as RelayPromise<T>;
    promise.abort = () => {
      if (control.aborted) return;
      control.aborted = true;
      if (control.task) control.task.abort();
      rejectNow(abortedError());
    };
    return promise;
  }

  const call = (kind: CallConfig['kind'], method: CallConfig['method'], fn: string, path: string, query: Query | undefined, data: unknown, callOptions: RequestOptions = {}) =>
    start<any>(assignAll({}, callOptions, { kind, method, fn, path, query, data, header: mergeHeaders({}, options.header, callOptions.header) }) as unknown as CallConfig);

  return {
    get: (path, query, callOptions) => call('request', 'GET', 'get', path, query, undefined, callOptions),
    post: (path, data, callOptions) => call('request', 'POST', 'post', path, undefined, data, callOptions),
    put: (path, data, callOptions) => call('request', 'PUT', 'put', path, undefined, data, callOptions),
    delete: (path, query, callOptions) => call('request', 'DELETE', 'delete', path, query, undefined, callOptions),
    patch: (path, data, callOptions) => call('request', 'PATCH', 'post', path, undefined, data, callOptions),
    downloadImage: (path, query, callOptions) => call('download', 'GET', 'getDownImg', path, query, undefined, callOptions),
    upload: (path, upload) => call('upload', 'POST', 'post', path, undefined, undefined, upload),
    interceptors: {
      request: { use: (onConfig) => void requestInterceptors.push(onConfig) },
      response: { use: (onAnswer, onError) => void responseInterceptors.push([onAnswer, onError]) },
    },
    cookieHeader: (path = '/') => (jar ? jar.header(path) : ''),
    clearCookies: () => jar && jar.clear(),
  };
}

/** The wx.request flags a caller set, and only those. */
function passThrough(config: CallConfig): WxRequestFlags {
  const flags: WxRequestFlags = {};
  if (config.responseType) flags.responseType = config.responseType;
  if (config.enableHttp2 !== undefined) flags.enableHttp2 = config.enableHttp2;
  if (config.enableQuic !== undefined) flags.enableQuic = config.enableQuic;
  if (config.enableCache !== undefined) flags.enableCache = config.enableCache;
  return flags;
}

/**
 * Sends once, and once more after a transient network failure if the call may be repeated, all within
 * the caller's time: one deadline for both tries, queue waits included; no retry starts with less than
 * MIN_RETRY_MS left.
 */
function withRetry<T>(send: (deadline: number | undefined) => Promise<T>, timeout: number | undefined, idempotent: boolean, control: Control): Promise<T> {
  const deadline = timeout === undefined ? undefined : Date.now() + timeout;
  return send(deadline).catch((error: unknown) => {
    if (!idempotent || control.aborted || !isTransient(error)) throw error;
    if (deadline !== undefined && deadline - Date.now() < MIN_RETRY_MS) throw error;
    return send(deadline);
  });
}

/** A timeout must be a positive number of milliseconds; undefined leaves it to app.json. */
function checkedTimeout(timeout: number | undefined): number | undefined {
  if (timeout === undefined) return undefined;
  if (typeof timeout !== 'number' || !isFinite(timeout) || timeout <= 0) throw new TypeError(`mp-relay: timeout must be a positive number of milliseconds (got ${String(timeout)})`);
  return timeout;
}

function hasHeader(header: Record<string, string>, name: string): boolean {
  return headerValue(header, name) !== undefined;
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch (error) {
    return text;
  }
}

function readText(wxApi: WxApi, file: string): unknown {
  try {
    return parseJson(wxApi.getFileSystemManager().readFileSync(file, 'utf8'));
  } catch (error) {
    return undefined;
  }
}

function assignAll(target: Record<string, unknown>, ...sources: object[]): Record<string, unknown> {
  sources.forEach((source) => Object.keys(source).forEach((key) => (target[key] = (source as Record<string, unknown>)[key])));
  return target;
}

/** Header names compare without case: a later `content-type` replaces an earlier `Content-Type`. */
function mergeHeaders(target: Record<string, string>, ...sources: (Record<string, string> | undefined)[]): Record<string, string> {
  sources.forEach((source) => {
    if (!source) return;
    Object.keys(source).forEach((key) => {
      const existing = headerKey(target, key);
      if (existing !== undefined) delete target[existing];
      target[key] = source[key]!;
    });
  });
  return target;
}

function headerKey(header: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(header).filter((key) => key.toLowerCase() === lower)[0];
}
