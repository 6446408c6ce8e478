import fc from 'fast-check';
import { loadConfig, type Upstream } from '../functions/core/config';
import { RelayError } from '../functions/core/errors';
import { resolveTarget } from '../functions/core/target';

// Thousands of generated and hostile `method` values: the resolved URL's origin is always the
// upstream's and its path always starts with the base path, or the input is rejected as BAD_PATH.

function upstreamOf(url: string): Upstream {
  const result = loadConfig({ UPSTREAM_URL: url });
  if (!result.ok) throw new Error(result.message);
  return result.config.upstream;
}

const UPSTREAMS = ['https://api.example.com', 'https://api.example.com/v1', 'http://127.0.0.1:8080/api/v2/'].map(upstreamOf);

const PIECES = [
  '', '/', '//', '\\', '.', '..', '%2e', '%2E', '%252e', '%25252e', '．', '\u2024', '\u2025', '%2f', '%2F', '%252f', '%5c',
  '%255c', '@', '%40', ':', 'http:', 'https://', 'javascript:', 'evil.com', '?', '%3f', '%253f', '#', '%23', '%00', '%0d%0a',
  '\r', '\n', '\t', ' ', '+', '%', '%%', '%zz', 'a', 'api', 'users', '用户', 'é', '😀', '\ud800', ';', '..;', '&', '=', '~',
  '[', ']', '{', '|', '^', '`', '"', "'", '<', '／', '＼', '＠', '？',
];

const hostilePath = fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }).map((pieces) => pieces.join(''));
const anyPath = fc.oneof(hostilePath, fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));
const query = fc.oneof(fc.constant(''), fc.constantFrom('a=1', 'a=1&b=%20x+y', 'x=%0d%0a', 'q=用户', "q='\"<>", 'a=#b'));

/** Every percent-decoding of `text` until it stops changing. */
function decodings(text: string): string[] {
  const forms = [text];
  for (let i = 0; i < 6; i++) {
    const next = forms.at(-1)!.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
    if (next === forms.at(-1)) break;
    forms.push(next);
  }
  return forms;
}

test('a resolved target never leaves the upstream origin or base path', () => {
  fc.assert(
    fc.property(fc.constantFrom(...UPSTREAMS), anyPath, query, (upstream, apiPath, rawQuery) => {
      let url: URL;
      try {
        url = resolveTarget(upstream, apiPath, rawQuery).url;
      } catch (error) {
        expect(error).toBeInstanceOf(RelayError);
        expect((error as RelayError).code).toBe('BAD_PATH');
        return;
      }
      expect(url.origin).toBe(upstream.origin);
      expect(url.pathname.startsWith(`${upstream.basePath}/`)).toBe(true);
      expect(url.hash).toBe('');
      expect(url.username + url.password).toBe('');
      // What a server downstream may decode the path to: still no dot segments, no other host, no splitting.
      const relative = url.pathname.slice(upstream.basePath.length);
      for (const form of decodings(relative)) {
        for (const variant of [form, form.normalize('NFKC')]) {
          expect(variant.split('/').filter((segment) => segment === '.' || segment === '..')).toEqual([]);
          expect(variant).not.toMatch(/[\x00-\x1f\\?#@]|\/\//);
        }
      }
      // A second parse gives the same URL: nothing left for a normaliser to change.
      expect(new URL(url.href).href).toBe(url.href);
    }),
    { numRuns: 5000 },
  );
});

test('ordinary API paths are accepted and land under the base path unchanged', () => {
  const segment = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
  fc.assert(
    fc.property(fc.constantFrom(...UPSTREAMS), fc.array(segment, { minLength: 1, maxLength: 6 }), (upstream, segments) => {
      const { url } = resolveTarget(upstream, segments.join('/'), 'page=2');
      expect(url.href).toBe(`${upstream.origin}${upstream.basePath}/${segments.join('/')}?page=2`);
    }),
    { numRuns: 1000 },
  );
});

// Refused on purpose: characters that are, or under NFKC become, "/", "\\", "." or one of their look-alikes.
const LIKE_SLASH_OR_DOT = /[/\\.\u1735\u2044\u2215\u2571\u27cb\u29f8\u2216\u2572\u27cd\u29f5\u29f9\u3002\u0701\u0702\ua60e\u{10a50}\u{1d16d}]/u;

test('unicode segments are encoded once, whatever the script', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }), (text) => {
      fc.pre(!/[\x00-\x1f\x7f\\/?#@%.:]/.test(text) && !/[?#@]/.test(text.normalize('NFKC')));
      fc.pre(![...text].some((char) => LIKE_SLASH_OR_DOT.test(char) || LIKE_SLASH_OR_DOT.test(char.normalize('NFKC'))));
      const { url } = resolveTarget(UPSTREAMS[0]!, `files/${text}`, '');
      expect(decodeURIComponent(url.pathname)).toBe(`/files/${text}`);
    }),
    { numRuns: 1000 },
  );
});
