import { createHash, createHmac } from 'node:crypto';
import { RelayError } from './errors';
import type { HeaderMap } from './types';

// The optional controls an operator can switch on (all off by default): which API paths the relay
// may reach, which mini programs may call it, and a signature that lets the backend refuse anything
// that did not come through the relay.

/**
 * RELAY_ALLOW_PATHS entries: a plain entry is a prefix ending at a segment boundary (`api` allows
 * `api` and `api/...`, not `apix`); `*` stands for part of one segment, `**` for any number of them.
 */
export function compilePathRule(entry: string): RegExp {
  const pattern = entry.trim().replace(/^\/+/, '');
  if (!pattern.includes('*')) {
    const prefix = pattern.replace(/\/+$/, '').replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`^${prefix}(?:/.*)?$`, 's');
  }
  const body = pattern
    .split(/(\*\*|\*)/)
    .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 's');
}

/**
 * Checks the API path against the allow list. `upstreamPath` is the path as it will be sent (already
 * checked and encoded exactly once by resolveTarget), so matching its decoded form cannot be sidestepped
 * by another encoding.
 */
export function checkPathAllowed(rules: readonly RegExp[] | undefined, upstreamPath: string, basePath: string): void {
  if (!rules) return;
  const apiPath = upstreamPath
    .slice(basePath.length + 1)
    .split('/')
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    })
    .join('/');
  if (!rules.some((rule) => rule.test(apiPath))) {
    throw new RelayError('PATH_NOT_ALLOWED', `the API path ${JSON.stringify(apiPath.slice(0, 200))} is not in RELAY_ALLOW_PATHS`);
  }
}

// WeChat sets this Referer on every request of a mini program; pages cannot change it. Version 0 is a
// development or trial build, `devtools` the IDE. A non-WeChat client can send anything, so this stops
// casual misuse, not a determined attacker.
const MINI_PROGRAM_REFERER = /^https:\/\/servicewechat\.com\/([A-Za-z0-9_]+)\/([0-9]+|devtools)\/page-frame\.html$/;

export function checkAppId(allowed: ReadonlySet<string> | undefined, allowDevtools: boolean, headers: HeaderMap): void {
  if (!allowed) return;
  const referer = [headers['referer']].flat()[0] ?? '';
  const match = MINI_PROGRAM_REFERER.exec(referer);
  if (!match) throw new RelayError('APPID_NOT_ALLOWED', 'the request does not come from a mini program (no servicewechat.com Referer)');
  const [, appId, version] = match;
  if (version === 'devtools' && !allowDevtools) throw new RelayError('APPID_NOT_ALLOWED', 'requests from WeChat devtools are not allowed (RELAY_ALLOW_DEVTOOLS=1 admits them)');
  if (!allowed.has(appId!)) throw new RelayError('APPID_NOT_ALLOWED', `the mini program ${appId} is not in RELAY_ALLOW_APPIDS`);
}

/**
 * Headers proving the request came through the relay: `x-relay-timestamp` (Unix seconds) and
 * `x-relay-signature`, the hex HMAC-SHA256 of METHOD \n PATH_AND_QUERY \n TIMESTAMP \n hex(SHA256(BODY)),
 * where PATH_AND_QUERY is the request target sent upstream and BODY the bytes sent (empty for none).
 */
export function signatureHeaders(secret: string, method: string, pathAndQuery: string, body: Buffer | undefined, now = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  const bodyHash = createHash('sha256').update(body ?? Buffer.alloc(0)).digest('hex');
  const signature = createHmac('sha256', secret).update(`${method}\n${pathAndQuery}\n${timestamp}\n${bodyHash}`).digest('hex');
  return { 'x-relay-timestamp': timestamp, 'x-relay-signature': signature };
}
