import { echo, send, useRelay } from './helpers/servers';

// Never an open proxy: every class of hostile API path is refused with 400 BAD_PATH before the
// upstream is contacted. Each row is sent as the raw `method` query value (the client's encoding).

const context = useRelay(echo, '/v1');
afterEach(() => {
  const reached = context.upstream.requests.splice(0).map((request) => request.url);
  expect(reached).toEqual([]);
});

const hostile: Array<[string, string]> = [
  ['missing', '/get?page=1'],
  ['empty', '/get?method='],
  ['only a slash', '/get?method=%2F'],
  ['given twice', '/get?method=api/a&method=api/b'],
  ['malformed percent-encoding', '/get?method=api/%E0%A4%A'],
  ['absolute URL', '/get?method=https://evil.example/x'],
  ['absolute URL, encoded', '/get?method=https%3A%2F%2Fevil.example%2Fx'],
  ['other scheme', '/get?method=file:/etc/passwd'],
  ['javascript: scheme', '/get?method=javascript:alert(1)'],
  ['protocol-relative //host', '/get?method=//evil.example/x'],
  ['protocol-relative, encoded', '/get?method=%2F%2Fevil.example'],
  ['empty segment inside', '/get?method=api//evil.example'],
  ['backslash', '/get?method=%5C%5Cevil.example'],
  ['backslash, double-encoded', '/get?method=api%255C..%255Cadmin'],
  ['userinfo @', '/get?method=@evil.example/x'],
  ['CR/LF (decoded once)', '/get?method=api%0D%0AHost:%20evil'],
  ['CR/LF (double-encoded)', '/get?method=api%250D%250AX-Injected:%201'],
  ['NUL', '/get?method=api/a%00.png'],
  ['NUL, double-encoded', '/get?method=api/a%2500.png'],
  ['tab', '/get?method=api/a%09b'],
  ['.. segment', '/get?method=../admin'],
  ['.. in the middle', '/get?method=api/../../admin'],
  ['. segment', '/get?method=api/./x'],
  ['trailing ..', '/get?method=api/..'],
  ['%2e%2e', '/get?method=%2e%2e/admin'],
  ['%2E%2E mixed case', '/get?method=api/%2E%2e/x'],
  ['double-encoded %252e%252e', '/get?method=%252e%252e/admin'],
  ['triple-encoded', '/get?method=%25252e%25252e/admin'],
  ['encoded slash with dots', '/get?method=api%252F..%252Fadmin'],
  ['full-width dots', `/get?method=${encodeURIComponent('．．/admin')}`],
  ['one-dot leader', `/get?method=${encodeURIComponent('api/\u2025/admin')}`],
  ['full-width solidus pair', `/get?method=${encodeURIComponent('／／evil.example')}`],
  ['..; path parameter', '/get?method=api/..;/admin'],
  ['? injection', '/get?method=admin/secret?debug=1'],
  ['? injection, decoded from %3F', '/get?method=admin/secret%3Fdebug=1'],
  ['? injection, double-encoded', '/get?method=admin/secret%253Fdebug=1'],
  ['# injection', '/get?method=api/users%23'],
  ['# injection cutting parameters', '/get?method=admin/secret%3Fdebug=1%23&page=2'],
  ['too long', `/get?method=${'a/'.repeat(1025)}`],
  ['too long after encoding', `/get?method=${encodeURIComponent('用'.repeat(700))}`],
  ['encoded too many times', '/get?method=%25252525252e'],
  ['path style ..', '/get/api/%2e%2e/admin'],
  ['path style ..', '/get/..%2F..%2Fadmin'],
  ['path style backslash', '/get/api%5Cadmin'],
  ['path style //', '/get//evil.example/x'],
  ['path style ?', '/get/api%3Fx=1'],
];

test.each(hostile)('%s: 400 BAD_PATH', async (_name, path) => {
  const reply = await send(context.relay.url, path);
  expect([reply.status, reply.headers['x-relay-error']]).toEqual([400, 'BAD_PATH']);
});

test.each([
  ['JSON body: absolute URL', '{"method":"https://evil.example/x"}'],
  ['JSON body: ..', '{"method":"api/../../admin"}'],
  ['JSON body: escaped CR/LF', '{"method":"api\\r\\nHost: evil"}'],
  ['JSON body: ? injection', '{"method":"admin?debug=1"}'],
])('%s: 400 BAD_PATH', async (_name, body) => {
  const reply = await send(context.relay.url, '/post', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  expect([reply.status, reply.headers['x-relay-error']]).toEqual([400, 'BAD_PATH']);
});

test('form body: ? injection', async () => {
  const reply = await send(context.relay.url, '/put', {
    method: 'PUT',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'method=admin%3Fdebug%3D1&a=1',
  });
  expect([reply.status, reply.headers['x-relay-error']]).toEqual([400, 'BAD_PATH']);
});
