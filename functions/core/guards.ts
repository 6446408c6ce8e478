import { RelayError } from './errors';
import type { HeaderMap } from './types';

// The optional controls an operator can switch on (all off by default): which API paths the relay
// may reach and which mini programs may call it. The signature for the backend is in signing.ts.

// `*` and `**` become these two tokens; every other character of a rule is a UTF-16 code unit to match as is.
const STAR = -1; // any run of characters within one segment
const GLOBSTAR = -2; // any run of characters, `/` included
const SLASH = 0x2f;

/**
 * A compiled RELAY_ALLOW_PATHS entry: a plain entry is a prefix ending at a segment boundary (`api`
 * allows `api` and `api/...`, not `apix`); `*` stands for part of one segment, `**` for any number of
 * them. Matching follows every position in the rule at once instead of backtracking, so it costs at
 * most path length × rule length steps whatever the operator wrote.
 */
export interface PathRule {
  /** The entry as matched: trimmed, without leading slashes. */
  readonly pattern: string;
  readonly tokens: readonly number[];
  /** A plain entry: also matches any path that continues past it with `/`. */
  readonly prefix: boolean;
}

export function compilePathRule(entry: string): PathRule {
  const trimmed = entry.trim().replace(/^\/+/, '');
  const prefix = !trimmed.includes('*');
  const pattern = prefix ? trimmed.replace(/\/+$/, '') : trimmed;
  const tokens: number[] = [];
  for (const run of pattern.match(/\*+|[^*]+/g) ?? []) {
    // `***` and `*` next to `**` are no different from `**`.
    if (run.startsWith('*')) tokens.push(run.length === 1 ? STAR : GLOBSTAR);
    else for (let i = 0; i < run.length; i++) tokens.push(run.charCodeAt(i));
  }
  return { pattern, tokens, prefix };
}

export function matchesPathRule(rule: PathRule, path: string): boolean {
  const { tokens } = rule;
  const end = tokens.length;
  // states[i] is 1 when the path read so far can match tokens[0..i).
  let current = new Uint8Array(end + 1);
  let next = new Uint8Array(end + 1);
  current[0] = 1;
  reachPastStars(tokens, current);
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (rule.prefix && code === SLASH && current[end]) return true;
    next.fill(0);
    let alive = false;
    for (let state = 0; state < end; state++) {
      if (!current[state]) continue;
      const token = tokens[state]!;
      if (token === GLOBSTAR || (token === STAR && code !== SLASH)) next[state] = 1;
      else if (token === code) next[state + 1] = 1;
      else continue;
      alive = true;
    }
    if (!alive) return false;
    reachPastStars(tokens, next);
    [current, next] = [next, current];
  }
  return current[end] === 1;
}

/** A star may match nothing, so the state after an active star is active too. */
function reachPastStars(tokens: readonly number[], states: Uint8Array): void {
  for (let state = 0; state < tokens.length; state++) {
    if (states[state] && tokens[state]! < 0) states[state + 1] = 1;
  }
}

/**
 * Checks the API path against the allow list. `segments` are the path's segments exactly as
 * resolveTarget decoded them once, which is what the upstream sees when it decodes the forwarded path.
 */
export function checkPathAllowed(rules: readonly PathRule[] | undefined, segments: readonly string[]): void {
  if (!rules) return;
  const apiPath = segments.join('/');
  // Servers that drop `;...` from each segment (Tomcat, Spring) see the path without them, so that
  // form must be allowed too: `files/secret.txt;.png` is not a `files/*.png`.
  const withoutParameters = apiPath.includes(';') ? segments.map((segment) => segment.replace(/;.*$/s, '')).join('/') : apiPath;
  const allowed = (path: string) => rules.some((rule) => matchesPathRule(rule, path));
  if (!allowed(apiPath) || (withoutParameters !== apiPath && !allowed(withoutParameters))) {
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
