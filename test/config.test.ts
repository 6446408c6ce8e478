import { DEFAULTS, loadConfig } from '../functions/core/config';

// A bad setting names its variable, so the operator knows exactly what to fix.

test('defaults', () => {
  const result = loadConfig({ UPSTREAM_URL: 'https://api.example.com/v1/' });
  expect(result).toEqual({
    ok: true,
    config: {
      upstream: { origin: 'https://api.example.com', basePath: '/v1', host: 'api.example.com', protocol: 'https:', hostname: 'api.example.com', port: 443 },
      pathParam: 'method',
      basePath: '',
      maxBodyBytes: 6 * 1024 * 1024,
      maxResponseBytes: DEFAULTS.maxResponseBytes,
      timeoutMs: 15000,
      bodyTimeoutMs: 15000,
      publicHost: undefined,
      log: true,
      // Every guard is off unless configured.
      allowPaths: undefined,
      allowAppIds: undefined,
      allowDevtools: false,
      signingSecret: undefined,
      maxInflight: undefined,
    },
  });
});

test('every setting is read', () => {
  const result = loadConfig({
    UPSTREAM_URL: 'http://backend.internal:8080',
    RELAY_ALLOW_INSECURE_UPSTREAM: '1',
    RELAY_PATH_PARAM: 'api',
    RELAY_MAX_BODY_BYTES: '1000',
    RELAY_MAX_RESPONSE_BYTES: '2000',
    RELAY_TIMEOUT_MS: '3000',
    RELAY_BODY_TIMEOUT_MS: '4000',
    RELAY_PUBLIC_HOST: 'Relay.Example.cn',
    RELAY_BASE_PATH: 'relay/v2/',
    RELAY_LOG: '0',
    RELAY_ALLOW_PATHS: 'api/*, img/**',
    RELAY_ALLOW_APPIDS: 'wx0123456789abcdef,wxfedcba9876543210',
    RELAY_ALLOW_DEVTOOLS: '1',
    RELAY_SIGNING_SECRET: '0123456789abcdef0123',
    RELAY_MAX_INFLIGHT: '50',
  });
  expect(result.ok && result.config.allowPaths?.map((rule) => rule.pattern)).toEqual(['api/*', 'img/**']);
  expect(result.ok && result.config).toMatchObject({
    allowAppIds: new Set(['wx0123456789abcdef', 'wxfedcba9876543210']),
    allowDevtools: true,
    signingSecret: '0123456789abcdef0123',
    maxInflight: 50,
    upstream: { origin: 'http://backend.internal:8080', basePath: '', host: 'backend.internal:8080', port: 8080 },
    pathParam: 'api',
    maxBodyBytes: 1000,
    maxResponseBytes: 2000,
    timeoutMs: 3000,
    bodyTimeoutMs: 4000,
    publicHost: 'relay.example.cn',
    basePath: '/relay/v2',
    log: false,
  });
});

test('plain http is accepted for loopback hosts', () => {
  for (const url of ['http://127.0.0.1:3000', 'http://localhost', 'http://[::1]:8000/api']) {
    expect([url, loadConfig({ UPSTREAM_URL: url }).ok]).toEqual([url, true]);
  }
});

test.each([
  [{}, 'UPSTREAM_URL', /is not set/],
  [{ UPSTREAM_URL: '  ' }, 'UPSTREAM_URL', /is not set/],
  [{ UPSTREAM_URL: 'api.example.com' }, 'UPSTREAM_URL', /not a valid URL/],
  [{ UPSTREAM_URL: 'ftp://api.example.com' }, 'UPSTREAM_URL', /must start with https/],
  [{ UPSTREAM_URL: 'http://api.example.com' }, 'UPSTREAM_URL', /RELAY_ALLOW_INSECURE_UPSTREAM=1/],
  [{ UPSTREAM_URL: 'https://user:pw@api.example.com' }, 'UPSTREAM_URL', /credentials/],
  [{ UPSTREAM_URL: 'https://api.example.com/?a=1' }, 'UPSTREAM_URL', /query or fragment/],
  [{ UPSTREAM_URL: 'https://api.example.com/#x' }, 'UPSTREAM_URL', /query or fragment/],
  [{ UPSTREAM_URL: 'http://api.example.com', RELAY_ALLOW_INSECURE_UPSTREAM: 'maybe' }, 'RELAY_ALLOW_INSECURE_UPSTREAM', /1 or 0/],
  [{ UPSTREAM_URL: 'https://a.example', RELAY_PATH_PARAM: 'a b' }, 'RELAY_PATH_PARAM', /plain parameter name/],
  [{ UPSTREAM_URL: 'https://a.example', RELAY_MAX_BODY_BYTES: '6MB' }, 'RELAY_MAX_BODY_BYTES', /positive whole number/],
  [{ UPSTREAM_URL: 'https://a.example', RELAY_MAX_RESPONSE_BYTES: '0' }, 'RELAY_MAX_RESPONSE_BYTES', /positive whole number/],
  [{ UPSTREAM_URL: 'https://a.example', RELAY_TIMEOUT_MS: '-5' }, 'RELAY_TIMEOUT_MS', /positive whole number/],
  [{ UPSTREAM_URL: 'https://a.example', RELAY_LOG: 'verbose' }, 'RELAY_LOG', /1 or 0/],
  [{ UPSTREAM_URL: 'https://a.example', RELAY_BODY_TIMEOUT_MS: '0' }, 'RELAY_BODY_TIMEOUT_MS', /positive whole number/],
  [{ UPSTREAM_URL: 'https://a.example', RELAY_BASE_PATH: '/a/../b' }, 'RELAY_BASE_PATH', /path prefix/],
  [{ UPSTREAM_URL: 'https://a.example', RELAY_BASE_PATH: '/a b' }, 'RELAY_BASE_PATH', /path prefix/],
  [{ UPSTREAM_URL: 'https://a.example', RELAY_PUBLIC_HOST: 'https://relay.example.cn/' }, 'RELAY_PUBLIC_HOST', /host name/],
  [{ UPSTREAM_URL: 'https://a.example', RELAY_PUBLIC_HOST: 'evil.example\r\nx: 1' }, 'RELAY_PUBLIC_HOST', /host name/],
])('%j is refused, naming %s', (env, variable, message) => {
  const result = loadConfig(env);
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.variable).toBe(variable);
  expect(result.message.startsWith(`${variable}: `)).toBe(true);
  expect(result.message).toMatch(message);
});

test.each([
  ['RELAY_ALLOW_PATHS', 'api/*, ../etc', /RELAY_ALLOW_PATHS: must be a comma-separated list of path prefixes/],
  ['RELAY_ALLOW_APPIDS', 'wx123', /RELAY_ALLOW_APPIDS: must be a comma-separated list of mini program AppIDs/],
  ['RELAY_SIGNING_SECRET', 'short', /RELAY_SIGNING_SECRET: must be at least 16 characters/],
  ['RELAY_MAX_INFLIGHT', '0', /RELAY_MAX_INFLIGHT: must be a positive whole number/],
])('a bad %s is refused, named', (name, value, message) => {
  const result = loadConfig({ UPSTREAM_URL: 'https://api.example.com', [name]: value });
  expect(result.ok).toBe(false);
  expect(!result.ok && result.message).toMatch(message);
});
