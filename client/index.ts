/// <reference types="miniprogram-api-typings" />
// mp-relay client for WeChat mini programs: speaks the relay's contract over wx.request,
// wx.downloadFile and wx.uploadFile. Plain ES2017 with no dependencies and no Node built-ins, so the
// built file (dist/client/index.js) can be copied into a mini program or used through its npm build.
import { ERROR_STATUS } from '../functions/core/error-codes';

/** The part of `wx` the client uses; pass your own (or a test stand-in) as `options.wx`. */
export type WxApi = Pick<WechatMiniprogram.Wx, 'request' | 'downloadFile' | 'uploadFile' | 'getStorageSync' | 'setStorageSync' | 'getFileSystemManager'>;

export type QueryValue = string | number | boolean | null | undefined | (string | number | boolean)[];
export type Query = Record<string, QueryValue>;

export interface RelayClientOptions {
  /** The relay's origin: `https://api.example.cn` (no trailing path). */
  baseUrl: string;
  /** The parameter carrying the API path (RELAY_PATH_PARAM on the relay). Default `method`. */
  pathParam?: string;
  /** `query` (default): `/get?method=api/users`. `path`: `/get/api/users` (needs a route for `/get/*`). */
  style?: 'query' | 'path';
  /** Milliseconds per call, as wx.request's `timeout`. Default 60000. */
  timeout?: number;
  /** Headers sent with every call. */
  header?: Record<string, string>;
  /** Keep the backend's cookies in wx storage and send them back (mini programs keep none). */
  cookies?: boolean;
  /** Calls in flight at once; more wait in a queue. WeChat allows 10 in all. Default 8. */
  maxConcurrent?: number;
  /** Defaults to the global `wx`. */
  wx?: WxApi;
}

export interface RequestOptions {
  header?: Record<string, string>;
  timeout?: number;
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
}

export interface UploadResult<T = unknown> {
  statusCode: number;
  /** Parsed as JSON when it is JSON, else the text. */
  data: T;
}

/** Relay error codes (what `x-relay-error` carries), plus the client's own. */
export type RelayErrorCode = keyof typeof ERROR_STATUS | 'NETWORK' | 'TIMEOUT' | 'BAD_STATUS';

/**
 * A call that did not get the backend's answer: the relay refused or failed (`fromRelay`), the network
 * failed (`NETWORK`, `TIMEOUT`, statusCode 0), or a download got a non-2xx status (`BAD_STATUS`).
 */
export class RelayError extends Error {
  readonly code: RelayErrorCode;
  readonly statusCode: number;
  readonly requestId: string | undefined;
  readonly fromRelay: boolean;

  constructor(code: RelayErrorCode, statusCode: number, message: string, requestId?: string) {
    super(message);
    // Restores instanceof for code compiled down to ES5 by the mini program's build.
    Object.setPrototypeOf(this, RelayError.prototype);
    this.name = 'RelayError';
    this.code = code;
    this.statusCode = statusCode;
    this.requestId = requestId;
    this.fromRelay = code in ERROR_STATUS;
  }
}

export interface RelayClient {
  get<T = unknown>(path: string, query?: Query, options?: RequestOptions): Promise<RelayResponse<T>>;
  /** `data` goes as JSON. With an empty `path`, a `method` field in `data` names the API (the original PHP proxy's way). */
  post<T = unknown>(path: string, data?: unknown, options?: RequestOptions): Promise<RelayResponse<T>>;
  put<T = unknown>(path: string, data?: unknown, options?: RequestOptions): Promise<RelayResponse<T>>;
  downloadImage(path: string, query?: Query): Promise<DownloadResult>;
  upload<T = unknown>(path: string, options: UploadOptions): Promise<UploadResult<T>>;
  /** The stored cookies as a Cookie header value, and a way to forget them (on logout). */
  cookieHeader(path?: string): string;
  clearCookies(): void;
}

const COOKIE_STORAGE_KEY = 'mp-relay:cookies';

export function createRelay(options: RelayClientOptions): RelayClient {
  const found: WxApi | undefined = options.wx || (typeof wx === 'undefined' ? undefined : wx);
  if (!found) throw new Error('mp-relay: no wx; pass options.wx outside a mini program');
  const wxApi = found;
  const base = options.baseUrl.replace(/\/+$/, '');
  const param = options.pathParam || 'method';
  const style = options.style || 'query';
  const timeout = options.timeout || 60000;
  const queue = createQueue(options.maxConcurrent || 8);
  const jar = options.cookies ? createCookieJar(wxApi) : undefined;

  const urlOf = (fn: string, path: string, query?: Query) => {
    const apiPath = path.replace(/^\/+/, '');
    const pairs: string[] = [];
    if (apiPath && style === 'query') pairs.push(`${encodeURIComponent(param)}=${encodeURIComponent(apiPath)}`);
    const rest = encodeQuery(query);
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

  function call<T>(method: 'GET' | 'POST' | 'PUT', fn: string, path: string, query: Query | undefined, data: unknown, requestOptions: RequestOptions = {}): Promise<RelayResponse<T>> {
    const send = () =>
      queue.run(
        () =>
          new Promise<RelayResponse<T>>((resolve, reject) => {
            const header = headerFor(path, requestOptions.header);
            if (method !== 'GET' && !hasHeader(header, 'content-type')) header['content-type'] = 'application/json';
            wxApi.request({
              url: urlOf(fn, path, query),
              method,
              data: method === 'GET' ? undefined : (data as WechatMiniprogram.IAnyObject),
              header,
              timeout: requestOptions.timeout || timeout,
              dataType: 'json',
              success(res) {
                const setCookies = setCookiesOf(res);
                if (jar) jar.store(setCookies);
                const relayError = relayErrorOf(res.statusCode, res.header, res.data);
                if (relayError) reject(relayError);
                else resolve({ statusCode: res.statusCode, data: res.data as T, header: res.header as Record<string, string>, cookies: setCookies });
              },
              fail(error) {
                reject(networkError(error));
              },
            });
          }),
      );
    // Only an idempotent call may be sent twice; a POST or PUT that failed may still have been acted on.
    return method === 'GET' ? retryOnNetworkError(send) : send();
  }

  return {
    get: (path, query, requestOptions) => call('GET', 'get', path, query, undefined, requestOptions),
    post: (path, data, requestOptions) => call('POST', 'post', path, undefined, data, requestOptions),
    put: (path, data, requestOptions) => call('PUT', 'put', path, undefined, data, requestOptions),

    downloadImage(path, query) {
      const download = () =>
        queue.run(
          () =>
            new Promise<DownloadResult>((resolve, reject) => {
              wxApi.downloadFile({
                url: urlOf('getDownImg', path, query),
                header: headerFor(path),
                success(res) {
                  if (res.statusCode >= 200 && res.statusCode < 300) return resolve({ tempFilePath: res.tempFilePath, statusCode: res.statusCode });
                  // WeChat writes the file whatever the status: here it holds the error, not an image.
                  reject(relayErrorOf(res.statusCode, {}, readText(wxApi, res.tempFilePath)) || new RelayError('BAD_STATUS', res.statusCode, `the backend answered ${res.statusCode}`));
                },
                fail(error) {
                  reject(networkError(error));
                },
              });
            }),
        );
      return retryOnNetworkError(download);
    },

    upload<T>(path: string, upload: UploadOptions) {
      return queue.run(
        () =>
          new Promise<UploadResult<T>>((resolve, reject) => {
            // The path goes in the URL so the multipart body passes through the relay untouched.
            wxApi.uploadFile({
              url: urlOf('post', path),
              filePath: upload.filePath,
              name: upload.name,
              formData: upload.formData,
              header: headerFor(path, upload.header),
              success(res) {
                const data = parseJson(res.data);
                const relayError = relayErrorOf(res.statusCode, {}, data);
                if (relayError) reject(relayError);
                else resolve({ statusCode: res.statusCode, data: data as T });
              },
              fail(error) {
                reject(networkError(error));
              },
            });
          }),
      );
    },

    cookieHeader: (path = '/') => (jar ? jar.header(path) : ''),
    clearCookies: () => jar && jar.clear(),
  };
}

// ---- queries ---------------------------------------------------------------------------------------

/** `{q: '小程序', tag: ['a', 'b']}` -> `q=%E5%B0%8F%E7%A8%8B%E5%BA%8F&tag=a&tag=b`; null and undefined are left out. */
export function encodeQuery(query?: Query): string {
  if (!query) return '';
  const pairs: string[] = [];
  Object.keys(query).forEach((name) => {
    const value = query[name];
    const values = Array.isArray(value) ? value : [value];
    values.forEach((item) => {
      if (item === null || item === undefined) return;
      pairs.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(item))}`);
    });
  });
  return pairs.join('&');
}

// ---- answers ---------------------------------------------------------------------------------------

function headerValue(header: Record<string, unknown> | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const key = Object.keys(header).filter((candidate) => candidate.toLowerCase() === name)[0];
  return key === undefined ? undefined : String(header[key]);
}

function hasHeader(header: Record<string, string>, name: string): boolean {
  return headerValue(header, name) !== undefined;
}

/**
 * The relay's own error, told apart from the backend's by `x-relay-error`. Where the header is not
 * visible (downloads, uploads), by the relay's JSON shape with one of its codes and a 4xx/5xx status.
 */
function relayErrorOf(statusCode: number, header: Record<string, unknown>, data: unknown): RelayError | undefined {
  const body = data && typeof data === 'object' ? (data as { error?: { code?: string; message?: string; requestId?: string } }).error : undefined;
  const code = headerValue(header, 'x-relay-error') || (statusCode >= 400 && body && body.code && body.code in ERROR_STATUS ? body.code : undefined);
  if (!code) return undefined;
  const message = (body && body.message) || `the relay answered ${statusCode} ${code}`;
  return new RelayError(code as RelayErrorCode, statusCode, message, (body && body.requestId) || headerValue(header, 'x-request-id'));
}

function networkError(error: { errMsg?: string }): RelayError {
  const message = (error && error.errMsg) || 'request:fail';
  return new RelayError(/timeout/i.test(message) ? 'TIMEOUT' : 'NETWORK', 0, message);
}

/** Newer base libraries list cookies in `cookies`; otherwise WeChat gives one Set-Cookie header, several joined with ", ". */
function setCookiesOf(res: { cookies?: string[]; header?: Record<string, unknown> }): string[] {
  if (res.cookies && res.cookies.length) return res.cookies.slice();
  const header = headerValue(res.header, 'set-cookie');
  return header ? splitSetCookie(header) : [];
}

/** Splits a merged Set-Cookie before each `name=`; the comma inside `Expires=Wed, 21 Oct ...` is not one. */
export function splitSetCookie(merged: string): string[] {
  return merged
    .split(/,\s*(?=[^;,=\s]+=)/)
    .map((part) => part.trim())
    .filter(Boolean);
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

function retryOnNetworkError<T>(send: () => Promise<T>): Promise<T> {
  return send().catch((error: unknown) => {
    if (error instanceof RelayError && (error.code === 'NETWORK' || error.code === 'TIMEOUT')) return send();
    throw error;
  });
}

function assign(target: Record<string, string>, ...sources: (Record<string, string> | undefined)[]): Record<string, string> {
  sources.forEach((source) => {
    if (source) Object.keys(source).forEach((key) => (target[key] = source[key]!));
  });
  return target;
}

// ---- the concurrency queue -------------------------------------------------------------------------

function createQueue(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  const next = () => {
    active--;
    const start = waiting.shift();
    if (start) start();
  };
  return {
    run<T>(task: () => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const start = () => {
          active++;
          task().then(
            (value) => {
              next();
              resolve(value);
            },
            (error: unknown) => {
              next();
              reject(error);
            },
          );
        };
        if (active < limit) start();
        else waiting.push(start);
      });
    },
  };
}

// ---- cookies ---------------------------------------------------------------------------------------

interface StoredCookie {
  name: string;
  value: string;
  path: string;
  /** Epoch ms; undefined for a session cookie (kept until cleared). */
  expires?: number;
}

function createCookieJar(wxApi: WxApi) {
  const load = (): StoredCookie[] => {
    const stored = wxApi.getStorageSync(COOKIE_STORAGE_KEY);
    return Array.isArray(stored) ? (stored as StoredCookie[]) : [];
  };
  const live = (cookies: StoredCookie[]) => cookies.filter((cookie) => cookie.expires === undefined || cookie.expires > Date.now());
  return {
    store(setCookies: string[]) {
      if (setCookies.length === 0) return;
      let cookies = live(load());
      setCookies.forEach((line) => {
        const cookie = parseSetCookie(line);
        if (!cookie) return;
        cookies = cookies.filter((existing) => !(existing.name === cookie.name && existing.path === cookie.path));
        // Max-Age=0 or an Expires in the past deletes it, as a browser would.
        if (cookie.expires === undefined || cookie.expires > Date.now()) cookies.push(cookie);
      });
      wxApi.setStorageSync(COOKIE_STORAGE_KEY, cookies);
    },
    /** Cookies whose Path covers the API path (the backend's path space, as the relay forwards it). */
    header(apiPath: string): string {
      const path = `/${apiPath.replace(/^\/+/, '')}`;
      return live(load())
        .filter((cookie) => cookie.path === '/' || path === cookie.path || path.indexOf(cookie.path.replace(/\/?$/, '/')) === 0)
        .sort((a, b) => b.path.length - a.path.length)
        .map((cookie) => `${cookie.name}=${cookie.value}`)
        .join('; ');
    },
    clear() {
      wxApi.setStorageSync(COOKIE_STORAGE_KEY, []);
    },
  };
}

function parseSetCookie(line: string): StoredCookie | undefined {
  const parts = line.split(';').map((part) => part.trim());
  const first = parts.shift() || '';
  const eq = first.indexOf('=');
  if (eq <= 0) return undefined;
  const cookie: StoredCookie = { name: first.slice(0, eq).trim(), value: first.slice(eq + 1).trim(), path: '/' };
  let maxAge: number | undefined;
  parts.forEach((attribute) => {
    const at = attribute.indexOf('=');
    const key = (at === -1 ? attribute : attribute.slice(0, at)).trim().toLowerCase();
    const value = at === -1 ? '' : attribute.slice(at + 1).trim();
    if (key === 'path' && value.charAt(0) === '/') cookie.path = value;
    else if (key === 'max-age' && /^-?\d+$/.test(value)) maxAge = Number(value);
    else if (key === 'expires') {
      const time = Date.parse(value);
      if (!isNaN(time)) cookie.expires = time;
    }
  });
  // Max-Age wins over Expires (RFC 6265 5.3).
  if (maxAge !== undefined) cookie.expires = Date.now() + maxAge * 1000;
  return cookie;
}
