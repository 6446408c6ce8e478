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

export interface RequestOptions {
  header?: Record<string, string>;
  /** Milliseconds for this call, retries included. */
  timeout?: number;
  arrayFormat?: ArrayFormat;
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

export interface UploadOptions {
  filePath: string;
  /** The multipart field name of the file. */
  name: string;
  formData?: Record<string, string>;
  header?: Record<string, string>;
  timeout?: number;
}

export interface UploadResult<T = unknown> {
  statusCode: number;
  /** Parsed as JSON when it is JSON, else the text. */
  data: T;
}

export interface RelayClient {
  get<T = unknown>(path: string, query?: Query, options?: RequestOptions): Promise<RelayResponse<T>>;
  /** `data` goes as JSON. With an empty `path`, a `method` field in `data` names the API (the original PHP proxy's way). */
  post<T = unknown>(path: string, data?: unknown, options?: RequestOptions): Promise<RelayResponse<T>>;
  put<T = unknown>(path: string, data?: unknown, options?: RequestOptions): Promise<RelayResponse<T>>;
  downloadImage(path: string, query?: Query, options?: RequestOptions): Promise<DownloadResult>;
  upload<T = unknown>(path: string, options: UploadOptions): Promise<UploadResult<T>>;
  /** The stored cookies as a Cookie header value, and a way to forget them (on logout). */
  cookieHeader(path?: string): string;
  clearCookies(): void;
}

/** A retry is not started with less than this left of the caller's time. */
const MIN_RETRY_MS = 100;

export function createRelay(options: RelayClientOptions): RelayClient {
  const found: WxApi | undefined = options.wx || (typeof wx === 'undefined' ? undefined : wx);
  if (!found) throw new Error('mp-relay: no wx; pass options.wx outside a mini program');
  const wxApi = found;
  const base = options.baseUrl.replace(/\/+$/, '');
  const param = options.pathParam || 'method';
  const style = options.style || 'query';
  // This client's own cap, inside the mini program's shared one.
  const own: Queue | undefined = options.maxConcurrent && options.maxConcurrent < WECHAT_MAX_TASKS ? createQueue(options.maxConcurrent) : undefined;
  const schedule = <T>(task: () => Promise<T>): Promise<T> => (own ? own.run(() => wechatTasks.run(task)) : wechatTasks.run(task));
  const jar = options.cookies ? createCookieJar(wxApi) : undefined;

  const urlOf = (fn: string, path: string, query: Query | undefined, arrayFormat: ArrayFormat | undefined) => {
    const apiPath = path.replace(/^\/+/, '');
    const pairs: string[] = [];
    if (apiPath && style === 'query') pairs.push(`${encodeURIComponent(param)}=${encodeURIComponent(apiPath)}`);
    const rest = encodeQuery(query, arrayFormat || options.arrayFormat);
    if (rest) pairs.push(rest);
    const prefix = apiPath && style === 'path' ? `${base}/${fn}/${apiPath.split('/').map(encodeURIComponent).join('/')}` : `${base}/${fn}`;
    return pairs.length ? `${prefix}?${pairs.join('&')}` : prefix;
  };
  const headerFor = (path: string, extra?: Record<string, string>) => {
    const header: Record<string, string> = assign({}, options.header, extra);
    const cookie = jar ? jar.header(path) : '';
    if (cookie) header.Cookie = header.Cookie ? `${header.Cookie}; ${cookie}` : cookie;
    return header;
  };
  const timeoutOf = (given?: number) => (given !== undefined ? given : options.timeout);

  function call<T>(method: 'GET' | 'POST' | 'PUT', fn: string, path: string, query: Query | undefined, data: unknown, requestOptions: RequestOptions = {}): Promise<RelayResponse<T>> {
    const send = (timeout: number | undefined) =>
      schedule(
        () =>
          new Promise<RelayResponse<T>>((resolve, reject) => {
            const header = headerFor(path, requestOptions.header);
            if (method !== 'GET' && !hasHeader(header, 'content-type')) header['content-type'] = 'application/json';
            wxApi.request({
              url: urlOf(fn, path, query, requestOptions.arrayFormat),
              method,
              data: method === 'GET' ? undefined : (data as WechatMiniprogram.IAnyObject),
              header,
              ...(timeout !== undefined ? { timeout } : {}),
              dataType: 'json',
              success(res) {
                const setCookies = setCookiesOf(res);
                if (jar) jar.store(setCookies);
                const relayError = relayErrorOf(res.statusCode, res.header, () => res.data);
                if (relayError) reject(relayError);
                else resolve({ statusCode: res.statusCode, data: res.data as T, header: res.header as Record<string, string>, cookies: setCookies });
              },
              fail(error) {
                reject(networkError(error as WxFailure));
              },
            });
          }),
      );
    // Only an idempotent call may be sent twice; a POST or PUT that failed may still have been acted on.
    return withRetry(send, timeoutOf(requestOptions.timeout), method === 'GET');
  }

  return {
    get: (path, query, requestOptions) => call('GET', 'get', path, query, undefined, requestOptions),
    post: (path, data, requestOptions) => call('POST', 'post', path, undefined, data, requestOptions),
    put: (path, data, requestOptions) => call('PUT', 'put', path, undefined, data, requestOptions),

    downloadImage(path, query, requestOptions = {}) {
      const download = (timeout: number | undefined) =>
        schedule(
          () =>
            new Promise<DownloadResult>((resolve, reject) => {
              let header: Record<string, unknown> | undefined;
              const task = wxApi.downloadFile({
                url: urlOf('getDownImg', path, query, requestOptions.arrayFormat),
                header: headerFor(path, requestOptions.header),
                ...(timeout !== undefined ? { timeout } : {}),
                success(res) {
                  if (res.statusCode >= 200 && res.statusCode < 300) return resolve({ tempFilePath: res.tempFilePath, statusCode: res.statusCode });
                  // WeChat writes the file whatever the status: here it holds the error, not an image.
                  reject(relayErrorOf(res.statusCode, header, () => readText(wxApi, res.tempFilePath)) || new RelayError('BAD_STATUS', res.statusCode, `the backend answered ${res.statusCode}`));
                },
                fail(error) {
                  reject(networkError(error as WxFailure));
                },
              });
              // The relay names its own errors in a header; a download shows its headers only here.
              if (task && typeof task.onHeadersReceived === 'function') task.onHeadersReceived((res) => (header = res.header));
            }),
        );
      return withRetry(download, timeoutOf(requestOptions.timeout), true);
    },

    upload<T>(path: string, upload: UploadOptions) {
      const timeout = timeoutOf(upload.timeout);
      return schedule(
        () =>
          new Promise<UploadResult<T>>((resolve, reject) => {
            let header: Record<string, unknown> | undefined;
            // The path goes in the URL so the multipart body passes through the relay untouched.
            const task = wxApi.uploadFile({
              url: urlOf('post', path, undefined, undefined),
              filePath: upload.filePath,
              name: upload.name,
              formData: upload.formData,
              header: headerFor(path, upload.header),
              ...(timeout !== undefined ? { timeout } : {}),
              success(res) {
                const data = parseJson(res.data);
                const relayError = relayErrorOf(res.statusCode, header, () => data);
                if (relayError) reject(relayError);
                else resolve({ statusCode: res.statusCode, data: data as T });
              },
              fail(error) {
                reject(networkError(error as WxFailure));
              },
            });
            if (task && typeof task.onHeadersReceived === 'function') task.onHeadersReceived((res) => (header = res.header));
          }),
      );
    },

    cookieHeader: (path = '/') => (jar ? jar.header(path) : ''),
    clearCookies: () => jar && jar.clear(),
  };
}

/**
 * Sends once, and once more after a transient network failure if the call may be repeated, within the
 * caller's time: the second try gets what is left of `timeout`, and none starts with less than MIN_RETRY_MS.
 */
function withRetry<T>(send: (timeout: number | undefined) => Promise<T>, timeout: number | undefined, idempotent: boolean): Promise<T> {
  const started = Date.now();
  return send(timeout).catch((error: unknown) => {
    if (!idempotent || !isTransient(error)) throw error;
    if (timeout === undefined) return send(undefined);
    const left = timeout - (Date.now() - started);
    if (left < MIN_RETRY_MS) throw error;
    return send(left);
  });
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

function assign(target: Record<string, string>, ...sources: (Record<string, string> | undefined)[]): Record<string, string> {
  sources.forEach((source) => {
    if (source) Object.keys(source).forEach((key) => (target[key] = source[key]!));
  });
  return target;
}
