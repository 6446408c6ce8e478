import fc from 'fast-check';
import { compilePathRule, matchesPathRule } from '../functions/core/guards';
import { echo, send, startRelay, startUpstream, type Upstream } from './helpers/servers';

// RELAY_ALLOW_PATHS is matched in time linear in the path, whatever the operator wrote: several `*` in a
// segment, `**` after `**`, long literal runs. Each hostile row below makes a backtracking matcher (the
// regular expressions rules used to compile to) take from half a second to several seconds; the whole
// table here must take under 200 ms.

const a = (count: number) => 'a'.repeat(count);

const hostile: Array<[rule: string, path: string, allowed: boolean]> = [
  ['a*a*a*b', a(2000), false],
  ['a*a*a*a*b', a(300), false],
  ['a*a*a*a*a*b', `${a(150)}/${a(1850)}`, false],
  ['**/**/**/x', `${'a/'.repeat(1000)}a`, false],
  ['**a**a**b', a(1000), false],
  [`${a(300)}*${a(300)}*b`, a(2000), false],
  // The same rules still match what they should, at the same cost.
  ['a*a*a*b', `${a(1999)}b`, true],
  ['**/**/**/x', `${'a/'.repeat(1000)}x`, true],
  ['a*a*a*a*a*b', `${a(2000)}b`, true],
];

test('hostile rows: every answer right, the whole table in under 200 ms', () => {
  const rules = hostile.map(([rule]) => compilePathRule(rule));
  const started = performance.now();
  const answers = hostile.map(([, path], index) => matchesPathRule(rules[index]!, path));
  const elapsed = performance.now() - started;
  expect(answers).toEqual(hostile.map(([, , allowed]) => allowed));
  expect(elapsed).toBeLessThan(200);
});

describe('through a relay configured with each hostile rule', () => {
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await startUpstream(echo);
  });
  afterAll(() => upstream.close());

  const shortName = (rule: string) => (rule.length > 20 ? `a ${rule.length}-character rule` : rule);
  test.each(hostile.map(([rule, path, allowed]) => [shortName(rule), path.length, rule, path, allowed] as const))(
    '%s against a %i-character path',
    async (_name, _length, rule, path, allowed) => {
      const relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_LOG: '0', RELAY_ALLOW_PATHS: rule });
      try {
        const before = upstream.requests.length;
        const reply = await send(relay.url, `/get?method=${path}`);
        if (allowed) expect([reply.status, reply.json().url]).toEqual([200, `/${path}`]);
        else expect([reply.status, reply.headers['x-relay-error'], upstream.requests.length]).toEqual([403, 'PATH_NOT_ALLOWED', before]);
      } finally {
        await relay.close();
      }
    },
  );
});

// The meaning of a rule is unchanged: the same answers as the regular expressions rules used to compile
// to (safe here: the inputs are short).
function regexRule(entry: string): RegExp {
  const pattern = entry.trim().replace(/^\/+/, '');
  const escape = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  if (!pattern.includes('*')) return new RegExp(`^${escape(pattern.replace(/\/+$/, ''))}(?:/.*)?$`, 's');
  const body = pattern.split(/(\*\*|\*)/).map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : escape(part)));
  return new RegExp(`^${body.join('')}$`, 's');
}

test.each([
  ['api/*', 'api/users', true],
  ['api/*', 'api/users/1', false],
  ['api/*', 'api', false],
  ['api/*', 'api/', true],
  ['img/**', 'img/2024/11/a.png', true],
  ['img/**', 'img', false],
  ['public', 'public', true],
  ['public', 'public/terms.html', true],
  ['public/', 'public/terms.html', true],
  ['/public', 'public', true],
  ['public', 'publicity', false],
  ['**/x', 'a/b/x', true],
  ['**/x', 'x', false],
  ['a**b', 'a/c/b', true],
  ['a***b', 'a/c/b', true],
  ['*.json', 'a.json', true],
  ['*.json', 'a/b.json', false],
  ['api/*/items', 'api/1/items', true],
  ['api/*/items', 'api/1/2/items', false],
])('%s against %s: %s', (rule, path, allowed) => {
  expect([matchesPathRule(compilePathRule(rule), path), regexRule(rule).test(path)]).toEqual([allowed, allowed]);
});

test('random rules and paths get the answers the regular expressions gave', () => {
  const ruleText = fc.array(fc.constantFrom('a', 'b', '/', '.', '*', '**', 'ab'), { minLength: 1, maxLength: 8 }).map((parts) => parts.join(''));
  const path = fc.array(fc.constantFrom('a', 'b', '/', '.', 'ab', 'ba'), { maxLength: 12 }).map((parts) => parts.join(''));
  fc.assert(
    fc.property(ruleText, path, (rule, candidate) => {
      expect(matchesPathRule(compilePathRule(rule), candidate)).toBe(regexRule(rule).test(candidate));
    }),
    { numRuns: 5000 },
  );
});
