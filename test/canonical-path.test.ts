import fc from 'fast-check';
import { loadConfig } from '../functions/core/config';
import { RelayError } from '../functions/core/errors';
import { checkPathAllowed, compilePathRule } from '../functions/core/guards';
import { resolveTarget } from '../functions/core/target';
import { echo, send, startRelay, startUpstream, type RunningRelay, type Upstream } from './helpers/servers';

// The path the allow list sees is exactly the path that is forwarded: each segment decoded once as
// strict UTF-8. Anything that has no single such reading (a stray "%", invalid or overlong UTF-8, an
// encoded "/" or "\" inside a segment, a look-alike of "/", "\" or ".") is refused with 400 BAD_PATH
// before any rule is asked, so even a rule that allows everything never sees it.

let upstream: Upstream;
/** `**` allows every path, `nothing` none: both must answer 400 for a bad path. */
let allowAll: RunningRelay;
let allowNone: RunningRelay;
/** Rules that show what the allow list saw. */
let allowSome: RunningRelay;
const RULES = ['api/*', 'img/**', '50%', '*.json', 'a*b*/c', '**a'];

beforeAll(async () => {
  upstream = await startUpstream(echo);
  const env = { UPSTREAM_URL: `${upstream.url}/v1`, RELAY_LOG: '0' };
  allowAll = await startRelay({ ...env, RELAY_ALLOW_PATHS: '**' });
  allowNone = await startRelay({ ...env, RELAY_ALLOW_PATHS: 'nothing' });
  allowSome = await startRelay({ ...env, RELAY_ALLOW_PATHS: RULES.join(',') });
});
afterAll(async () => {
  await Promise.all([allowAll, allowNone, allowSome].map((relay) => relay.close()));
  await upstream.close();
});

/** The API path in each place a client can put it; `%XX` in `apiPath` are escapes the relay decodes. */
function requests(apiPath: string) {
  const pathStyle = apiPath.replace(/[^\x21-\x7e]/gu, encodeURIComponent);
  return [
    { target: `/get?method=${encodeURIComponent(apiPath)}` },
    { target: `/get/${pathStyle}` },
    { target: '/post', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method: apiPath }) },
  ];
}

const refused: Array<[string, string]> = [
  ['a lone %', 'api/%'],
  ['% without two hex digits', 'api/%zz'],
  ['% with one hex digit', 'api/%4'],
  ['% at the end of a segment', 'api/100%/x'],
  ['%% then an escape', 'api/%%41'],
  ['truncated two-byte sequence', 'api/%C3'],
  ['truncated three-byte sequence', 'api/%E0%A4'],
  ['bad continuation byte', 'api/%C3%28'],
  ['lone continuation byte', 'api/%80'],
  ['0xFF', 'api/%FF'],
  ['overlong "."', 'api/%C0%AE'],
  ['overlong "/"', 'api/%C0%AF'],
  ['overlong "\\"', 'api/%C1%9C'],
  ['three-byte overlong "."', 'api/%E0%80%AE'],
  ['four-byte overlong "/"', 'api/%F0%80%80%AF'],
  ['encoded surrogate', 'api/%ED%A0%80'],
  ['beyond U+10FFFF', 'api/%F4%90%80%80'],
  ['overlong ".", double-encoded', 'api/%25C0%25AE%25C0%25AE/admin'],
  ['invalid UTF-8, double-encoded', 'api/%25E9'],
  ['encoded "/" in a segment', 'api%2Fadmin'],
  ['encoded "/", lower case', 'api/a%2fb'],
  ['encoded "/", double-encoded', 'api/a%252Fb'],
  ['encoded "\\" in a segment', 'api/a%5Cb'],
  // Tomcat and Spring end a segment's name at ";": encoded, it would become that delimiter.
  ['encoded ";" in a segment', 'files/secret.txt%3B.png'],
  ['encoded ";", double-encoded', 'files/secret.txt%253B.png'],
  ['encoded "\\", double-encoded', 'api/a%255cb'],
  ['full-width solidus U+FF0F', 'api／admin'],
  ['full-width solidus, encoded', 'api/%EF%BC%8Fadmin'],
  ['full-width reverse solidus U+FF3C', 'api＼admin'],
  ['full-width full stop U+FF0E', 'api/file．json'],
  ['full-width full stops, double-encoded', 'api/%25EF%25BC%258E%25EF%25BC%258E/admin'],
  ['division slash U+2215', 'api/a∕b'],
  ['fraction slash U+2044', 'api/a⁄b'],
  ['big solidus U+29F8', 'api/a⧸b'],
  ['set minus U+2216', 'api/a∖b'],
  ['reverse solidus operator U+29F5', 'api/a⧵b'],
  ['big reverse solidus U+29F9', 'api/a⧹b'],
  ['small reverse solidus U+FE68', 'api/a﹨b'],
  ['small full stop U+FE52', 'api/a﹒b'],
  ['one dot leader U+2024', 'api/a․b'],
  ['two dot leader U+2025', 'api/‥/admin'],
  ['ellipsis U+2026', 'api/a…b'],
  ['vertical two dot leader U+FE30', 'api/︰'],
  ['ideographic full stop U+3002', 'api/a。b'],
  ['half-width ideographic full stop U+FF61', 'api/a｡b'],
  ['box-drawing diagonal U+2571', 'api/a╱b'],
  ['vulgar fraction ½ (NFKC 1⁄2)', 'api/½'],
  ['digit full stop ⒈ (NFKC "1.")', 'api/⒈'],
  ['care of ℅ (NFKC "c/o")', 'api/℅'],
];

describe.each(refused)('%s: 400 BAD_PATH before any rule', (_name, apiPath) => {
  test.each(requests(apiPath).map((request) => [request.target, request] as const))('%s', async (_target, request) => {
    const before = upstream.requests.length;
    for (const relay of [allowAll, allowNone]) {
      const reply = await send(relay.url, request.target, request);
      expect([reply.status, reply.headers['x-relay-error']]).toEqual([400, 'BAD_PATH']);
    }
    expect(upstream.requests.length).toBe(before);
  });
});

// Legitimate paths: forwarded with each segment encoded exactly once, and matched as decoded.
const accepted: Array<[string, string, string]> = [
  ['raw non-ASCII', 'api/café', '/v1/api/caf%C3%A9'],
  ['already encoded', 'api/caf%C3%A9', '/v1/api/caf%C3%A9'],
  ['encoded in lower case', 'api/caf%c3%a9', '/v1/api/caf%C3%A9'],
  ['Chinese', 'api/小程序', '/v1/api/%E5%B0%8F%E7%A8%8B%E5%BA%8F'],
  ['middle dot in a name', 'api/迈克尔·杰克逊', '/v1/api/%E8%BF%88%E5%85%8B%E5%B0%94%C2%B7%E6%9D%B0%E5%85%8B%E9%80%8A'],
  ['katakana ノ', 'api/ノート', '/v1/api/%E3%83%8E%E3%83%BC%E3%83%88'],
  ['an escape that was not needed', 'api/%75sers', '/v1/api/users'],
  ['a literal percent', 'api/50%25', '/v1/api/50%25'],
  ['a space', 'api/a%20b', '/v1/api/a%20b'],
  ['a dot inside a segment', 'api/a.json', '/v1/api/a.json'],
  ['sub-delimiters', "api/a~!$&'()*+,;=:b", "/v1/api/a~!$&'()*+,;=:b"],
];

test.each(accepted)('%s: %s is forwarded as %s', async (_name, apiPath, forwarded) => {
  for (const request of requests(apiPath)) {
    const reply = await send(allowSome.url, request.target, request);
    expect([reply.status, reply.json().url]).toEqual([200, forwarded]);
  }
});

test.each([
  ['files/secret.txt;.png', 403],
  ['files/a.png;jsessionid=1', 403], // allowed only as written and as a Java server reads it: both
  ['files/a.png', 200],
])('path parameters: with files/*.png allowed, %s is %i (the path as sent and without ";..." must both be allowed)', async (apiPath, status) => {
  const upstream = await startUpstream((_req, res) => res.end('{}'));
  const relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_ALLOW_PATHS: 'files/*.png', RELAY_LOG: '0' });
  try {
    expect((await send(relay.url, `/get/${apiPath}`)).status).toBe(status);
  } finally {
    await relay.close();
    await upstream.close();
  }
});

test('the allow list sees the path decoded once: "50%" allows 50%25, not 50%2525 or 5%30', async () => {
  const status = async (apiPath: string) => (await send(allowSome.url, `/get?method=${encodeURIComponent(apiPath)}`)).status;
  expect([await status('50%25'), await status('50%2525'), await status('5%30%25')]).toEqual([200, 403, 200]);
  expect(await status('5%30')).toBe(403);
});

// A reference for the rules' meaning that shares no code with the relay, safe on these short paths.
function ruleRegex(entry: string): RegExp {
  const escape = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  if (!entry.includes('*')) return new RegExp(`^${escape(entry)}(?:/.*)?$`, 's');
  return new RegExp(`^${entry.split(/(\*\*|\*)/).map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : escape(part))).join('')}$`, 's');
}
const allowedByRules = (path: string) => RULES.some((rule) => ruleRegex(rule).test(path));

/** What the upstream makes of a forwarded path: each segment decoded once, strictly. */
const receivedPath = (pathname: string) => pathname.replace(/^\/v1\//, '').split('/').map(decodeURIComponent).join('/');

/** Random bytes, each written as itself or as a `%XX` escape, with pieces that reach the rules or are encoded twice. */
const byte = fc.oneof(
  { arbitrary: fc.constantFrom(...Buffer.from('ab/c.json5')), weight: 6 },
  { arbitrary: fc.integer({ min: 0, max: 255 }), weight: 1 },
  { arbitrary: fc.constantFrom(0x2e, 0x2f, 0x25, 0xc3, 0xa9, 0xc0, 0xef, 0xbc, 0x8f), weight: 1 },
);
const written = fc.tuple(byte, fc.boolean(), fc.boolean()).map(([value, escaped, lower]) => {
  if (!escaped && value > 0x20 && value < 0x7f) return String.fromCharCode(value);
  const hex = value.toString(16).padStart(2, '0');
  return `%${lower ? hex : hex.toUpperCase()}`;
});
const randomApiPath = fc
  .tuple(fc.constantFrom('', 'api/', 'img/', 'a', '50'), fc.array(fc.oneof(written, fc.constantFrom('é', '用', '／', '．', '%25', '%2561', '%252e', '%252F')), { maxLength: 16 }))
  .map(([start, pieces]) => start + pieces.join(''));

const upstreamConfig = loadConfig({ UPSTREAM_URL: 'https://api.example.com/v1' });
const rules = RULES.map(compilePathRule);

test('for random bytes, the allow list decides on exactly what the upstream receives', () => {
  if (!upstreamConfig.ok) throw new Error(upstreamConfig.message);
  const seen = { refused: 0, allowed: 0, notAllowed: 0 };
  fc.assert(
    fc.property(randomApiPath, (apiPath) => {
      let target: ReturnType<typeof resolveTarget>;
      try {
        target = resolveTarget(upstreamConfig.config.upstream, apiPath, '');
      } catch (error) {
        expect((error as RelayError).code).toBe('BAD_PATH');
        seen.refused++;
        return;
      }
      const received = receivedPath(target.url.pathname);
      expect(target.segments.join('/')).toBe(received);
      let allowed = true;
      try {
        checkPathAllowed(rules, target.segments);
      } catch (error) {
        expect((error as RelayError).code).toBe('PATH_NOT_ALLOWED');
        allowed = false;
      }
      expect(allowed).toBe(allowedByRules(received));
      seen[allowed ? 'allowed' : 'notAllowed']++;
    }),
    { numRuns: 5000 },
  );
  // Every outcome happens often enough for the property to mean something.
  expect(Math.min(seen.refused, seen.allowed, seen.notAllowed)).toBeGreaterThan(250);
});

test('for random bytes over HTTP, a relay with rules answers as the rules say of what one without them forwards', async () => {
  const seen = { refused: 0, allowed: 0, notAllowed: 0 };
  await fc.assert(
    fc.asyncProperty(randomApiPath, async (apiPath) => {
      const target = `/get?method=${encodeURIComponent(apiPath)}`;
      const open = await send(allowAll.url, target);
      const ruled = await send(allowSome.url, target);
      if (open.status !== 200) {
        expect([open.status, open.headers['x-relay-error'], ruled.status, ruled.headers['x-relay-error']]).toEqual([400, 'BAD_PATH', 400, 'BAD_PATH']);
        seen.refused++;
        return;
      }
      const sent: string = open.json().url;
      const allowed = allowedByRules(receivedPath(sent));
      if (allowed) expect([ruled.status, ruled.json().url]).toEqual([200, sent]);
      else expect([ruled.status, ruled.headers['x-relay-error']]).toEqual([403, 'PATH_NOT_ALLOWED']);
      seen[allowed ? 'allowed' : 'notAllowed']++;
    }),
    { numRuns: 300 },
  );
  expect(Math.min(seen.refused, seen.allowed, seen.notAllowed)).toBeGreaterThan(10);
});
