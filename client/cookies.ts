import { headerValue } from './errors';

// The backend's cookies, kept in wx storage and sent back by path (mini programs keep none themselves).

interface StoredCookie {
  name: string;
  value: string;
  path: string;
  /** Epoch ms; undefined for a session cookie (kept until cleared). */
  expires?: number;
}

export interface CookieStorage {
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: unknown): void;
}

const COOKIE_STORAGE_KEY = 'mp-relay:cookies';

export function createCookieJar(wxApi: CookieStorage) {
  const load = (): StoredCookie[] => {
    const stored = wxApi.getStorageSync(COOKIE_STORAGE_KEY);
    return Array.isArray(stored) ? (stored as StoredCookie[]) : [];
  };
  const live = (cookies: StoredCookie[]) => cookies.filter((cookie) => cookie.expires === undefined || cookie.expires > Date.now());
  return {
    /** Never throws: a storage that fails (full, say) loses cookies, not the answer they came with. */
    store(setCookies: string[]) {
      if (setCookies.length === 0) return;
      try {
        this.save(setCookies);
      } catch (error) {
        // Nothing better to do: the call itself succeeded.
      }
    },
    save(setCookies: string[]) {
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

/** Newer base libraries list cookies in `cookies`; otherwise WeChat gives one Set-Cookie header, several joined with ", ". */
export function setCookiesOf(res: { cookies?: string[]; header?: Record<string, unknown> }): string[] {
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

