import { compilePathRule, type PathRule } from './guards';

// Configuration comes from environment variables only (that is what every cloud function console
// offers). It is read once per instance; a bad value names the variable so the fix is obvious.

export interface Upstream {
  /** `https://api.example.com` (scheme, host and port only). */
  origin: string;
  /** `''` or a prefix without a trailing slash, such as `/v1`. */
  basePath: string;
  /** Host header value for the upstream (includes a non-default port). */
  host: string;
  protocol: 'http:' | 'https:';
  hostname: string;
  port: number;
}

export interface RelayConfig {
  upstream: Upstream;
  /** Name of the parameter that carries the API path (`method` in the original proxy). */
  pathParam: string;
  /**
   * RELAY_BASE_PATH: a prefix in front of the relay's own paths that the platform passes on (an API
   * mapping's base path, `/relay` in `/relay/get`); `''` when there is none.
   */
  basePath: string;
  maxBodyBytes: number;
  maxResponseBytes: number;
  timeoutMs: number;
  /** RELAY_BODY_TIMEOUT_MS: longest pause while a request body is arriving (servers that stream it). */
  bodyTimeoutMs: number;
  /** RELAY_PUBLIC_HOST: the relay's own domain, sent upstream as X-Forwarded-Host (never the client's Host). */
  publicHost?: string;
  log: boolean;
  /** RELAY_ALLOW_PATHS, compiled; undefined when every path is allowed. */
  allowPaths?: PathRule[];
  /** RELAY_ALLOW_APPIDS; undefined when any caller is allowed. */
  allowAppIds?: Set<string>;
  allowDevtools: boolean;
  /** RELAY_SIGNING_SECRET: sign every forwarded request for the backend to verify. */
  signingSecret?: string;
  /** RELAY_MAX_INFLIGHT: requests one server instance handles at once (local server, web function). */
  maxInflight?: number;
}

export type ConfigResult =
  | { ok: true; config: RelayConfig }
  | { ok: false; variable: string; message: string };

export type Env = Record<string, string | undefined>;

export const DEFAULTS = {
  pathParam: 'method',
  maxBodyBytes: 6 * 1024 * 1024,
  // Larger than any cloud function can return (FC 32 MB, SCF 6 MB); it bounds memory on the local server.
  maxResponseBytes: 32 * 1024 * 1024,
  timeoutMs: 15_000,
  // A mini program upload pauses for seconds on a weak mobile link, never for this long.
  bodyTimeoutMs: 15_000,
} as const;

class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

export function loadConfig(env: Env): ConfigResult {
  try {
    const allowInsecure = readFlag(env, 'RELAY_ALLOW_INSECURE_UPSTREAM', false);
    return {
      ok: true,
      config: {
        upstream: readUpstream(env, allowInsecure),
        pathParam: readPathParam(env),
        basePath: readBasePath(env),
        maxBodyBytes: readPositiveInt(env, 'RELAY_MAX_BODY_BYTES', DEFAULTS.maxBodyBytes),
        maxResponseBytes: readPositiveInt(env, 'RELAY_MAX_RESPONSE_BYTES', DEFAULTS.maxResponseBytes),
        timeoutMs: readPositiveInt(env, 'RELAY_TIMEOUT_MS', DEFAULTS.timeoutMs),
        bodyTimeoutMs: readPositiveInt(env, 'RELAY_BODY_TIMEOUT_MS', DEFAULTS.bodyTimeoutMs),
        publicHost: readPublicHost(env),
        log: readFlag(env, 'RELAY_LOG', true),
        allowPaths: readList(env, 'RELAY_ALLOW_PATHS', /^(?!(?:.*\/)?\.\.?(?:\/|$))[A-Za-z0-9._~!$&'()+,;=:@%/*-]+$/, 'path prefixes or globs such as api/*, img/**')?.map(compilePathRule),
        allowAppIds: readSet(env, 'RELAY_ALLOW_APPIDS', /^wx[0-9a-f]{16}$/, 'mini program AppIDs such as wx0123456789abcdef'),
        allowDevtools: readFlag(env, 'RELAY_ALLOW_DEVTOOLS', false),
        signingSecret: readSecret(env, 'RELAY_SIGNING_SECRET'),
        maxInflight: readOptionalPositiveInt(env, 'RELAY_MAX_INFLIGHT'),
      },
    };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, variable: error.variable, message: error.message };
    throw error;
  }
}

const LOOPBACK_HOSTS = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

function readUpstream(env: Env, allowInsecure: boolean): Upstream {
  const name = 'UPSTREAM_URL';
  const raw = env[name]?.trim();
  if (!raw) throw new ConfigError(name, 'is not set; set it to your backend, e.g. https://api.example.com/v1');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a valid URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(name, `must start with https:// (got ${url.protocol}//)`);
  }
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.test(url.hostname) && !allowInsecure) {
    throw new ConfigError(
      name,
      'must use https:// (plain http:// is allowed only for loopback hosts or with RELAY_ALLOW_INSECURE_UPSTREAM=1)',
    );
  }
  if (url.username || url.password) throw new ConfigError(name, 'must not contain credentials');
  if (url.search || url.hash || raw.includes('?') || raw.includes('#')) {
    throw new ConfigError(name, 'must not contain a query or fragment');
  }
  return {
    origin: url.origin,
    basePath: url.pathname.replace(/\/+$/, ''),
    host: url.host,
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
  };
}

function readBasePath(env: Env): string {
  const value = env.RELAY_BASE_PATH?.trim();
  if (!value || value === '/') return '';
  if (!/^\/?[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*\/?$/.test(value) || /(?:^|\/)\.\.?(?:\/|$)/.test(value)) {
    throw new ConfigError('RELAY_BASE_PATH', `must be a path prefix such as /relay (got ${JSON.stringify(value)})`);
  }
  return `/${value.replace(/^\/+|\/+$/g, '')}`;
}

function readPublicHost(env: Env): string | undefined {
  const value = env.RELAY_PUBLIC_HOST?.trim();
  if (!value) return undefined;
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::\d{1,5})?$/.test(value)) {
    throw new ConfigError('RELAY_PUBLIC_HOST', `must be a host name such as relay.example.cn (got ${JSON.stringify(value)})`);
  }
  return value.toLowerCase();
}

function readPathParam(env: Env): string {
  const value = env.RELAY_PATH_PARAM?.trim();
  if (value === undefined || value === '') return DEFAULTS.pathParam;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(value)) {
    throw new ConfigError('RELAY_PATH_PARAM', `must be a plain parameter name like "method" (got ${JSON.stringify(value)})`);
  }
  return value;
}

function readPositiveInt(env: Env, name: string, fallback: number): number {
  const value = env[name]?.trim();
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new ConfigError(name, `must be a positive whole number (got ${JSON.stringify(value)})`);
  }
  return Number(value);
}

/** A comma-separated list, each entry checked; undefined when unset. */
function readList(env: Env, name: string, entry: RegExp, what: string): string[] | undefined {
  const value = env[name]?.trim();
  if (!value) return undefined;
  const items = value.split(',').map((item) => item.trim()).filter(Boolean);
  const bad = items.find((item) => !entry.test(item));
  if (bad !== undefined || items.length === 0) throw new ConfigError(name, `must be a comma-separated list of ${what} (got ${JSON.stringify(bad ?? value)})`);
  return items;
}

function readSet(env: Env, name: string, entry: RegExp, what: string): Set<string> | undefined {
  const items = readList(env, name, entry, what);
  return items && new Set(items);
}

function readSecret(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  // A short secret can be guessed offline from one signed request.
  if (value.length < 16) throw new ConfigError(name, 'must be at least 16 characters (e.g. the output of `openssl rand -hex 32`)');
  return value;
}

function readOptionalPositiveInt(env: Env, name: string): number | undefined {
  return env[name]?.trim() ? readPositiveInt(env, name, 0) : undefined;
}

function readFlag(env: Env, name: string, fallback: boolean): boolean {
  const value = env[name]?.trim().toLowerCase();
  if (value === undefined || value === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(name, `must be 1 or 0 (got ${JSON.stringify(value)})`);
}
