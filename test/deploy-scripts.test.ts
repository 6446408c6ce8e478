import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startFcStandIn, startScfStandIn, type StandIn } from './helpers/cloud-stand-ins';
import { FUNCTIONS } from './helpers/endpoints';
import { built } from './helpers/processes';

// The deploy scripts, built as users run them, against local stand-ins of the cloud APIs: the exact
// calls and bodies, idempotence on a second run, --dry-run, and the message for each missing setting.
// No call leaves the machine: every endpoint is 127.0.0.1.

const ROOT = path.join(__dirname, '..');
const CERT = path.join(ROOT, 'test', 'fixtures', 'tls', 'cert.pem');
const KEY = path.join(ROOT, 'test', 'fixtures', 'tls', 'key.pem');
const zipBase64 = (file: string) => readFileSync(built(file)).toString('base64');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a built tool with exactly `env` (plus PATH) from the repository root, where dist/ is. */
function runTool(tool: string, args: string[], env: Record<string, string>): Promise<Run> {
  const child = spawn(process.execPath, [built('tools', `${tool}.mjs`), ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const RELAY_ENV = { UPSTREAM_URL: 'https://api.example.com/v1', RELAY_TIMEOUT_MS: '20000' };

describe('deploy:aliyun (@alicloud/fc2)', () => {
  const CREDENTIALS = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-test-id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'test-secret', ALIBABA_CLOUD_ACCOUNT_ID: '1234567890123456' };
  let fc: StandIn;
  let env: Record<string, string>;
  beforeEach(async () => {
    fc = await startFcStandIn();
    env = { ...CREDENTIALS, ...RELAY_ENV, ALIYUN_FC_ENDPOINT: fc.url, MP_RELAY_DOMAIN: 'api.example.cn', MP_RELAY_CERT_FILE: CERT, MP_RELAY_KEY_FILE: KEY };
  });
  afterEach(() => fc.close());

  test('a first run creates the service, four functions, their HTTP triggers and the custom domain', async () => {
    const run = await runTool('deploy-aliyun', [], env);
    expect([run.code, run.stderr]).toEqual([0, '']);
    const sent = fc.calls.map((call) => `${call.method} ${call.target}`);
    expect(sent).toEqual([
      'GET /account-settings',
      'GET /services/mp-relay',
      'POST /services',
      ...FUNCTIONS.flatMap(([fn]) => [
        `GET /services/mp-relay/functions/${fn}`,
        'POST /services/mp-relay/functions',
        `GET /services/mp-relay/functions/${fn}/triggers/http`,
        `POST /services/mp-relay/functions/${fn}/triggers`,
      ]),
      'GET /custom-domains/api.example.cn',
      'POST /custom-domains',
    ]);
    // Every call is signed with the AccessKey from the environment.
    expect(fc.calls.every((call) => call.authorization.startsWith('FC LTAI-test-id:'))).toBe(true);

    const bodies = fc.calls.filter((call) => call.method === 'POST').map((call) => call.body);
    expect(bodies[0]).toMatchObject({ serviceName: 'mp-relay', internetAccess: true });
    FUNCTIONS.forEach(([fn, method], i) => {
      expect(bodies[1 + i * 2]).toEqual({
        functionName: fn,
        description: `mp-relay /${fn}`,
        handler: 'index.handler',
        runtime: 'nodejs18',
        memorySize: 256,
        timeout: 30,
        // The mapped domain is the relay's public host (X-Forwarded-Host).
        environmentVariables: { ...RELAY_ENV, RELAY_PUBLIC_HOST: 'api.example.cn' },
        code: { zipFile: zipBase64(`${fn}.zip`) },
      });
      expect(bodies[2 + i * 2]).toEqual({ triggerName: 'http', triggerType: 'http', triggerConfig: { authType: 'anonymous', methods: [method] } });
    });
    const domain = bodies[bodies.length - 1];
    expect(domain).toMatchObject({
      domainName: 'api.example.cn',
      protocol: 'HTTP,HTTPS',
      certConfig: { certName: 'api-example-cn', certificate: readFileSync(CERT, 'utf8'), privateKey: readFileSync(KEY, 'utf8') },
    });
    expect(domain.routeConfig.routes).toEqual(
      FUNCTIONS.flatMap(([fn, method]) => [`/${fn}`, `/${fn}/*`].map((p) => ({ path: p, serviceName: 'mp-relay', functionName: fn, qualifier: 'LATEST', methods: [method] }))),
    );
  });

  test('--mode server creates one custom-runtime function running dist/web, many calls per instance, every path routed to it', async () => {
    const run = await runTool('deploy-aliyun', ['--mode', 'server'], { ...env, MP_RELAY_CONCURRENCY: '80' });
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(run.stdout).toContain('server mode, 80 calls per instance');
    const posts = fc.calls.filter((call) => call.method === 'POST').map((call) => [call.target, call.body] as const);
    expect(posts.map(([target]) => target)).toEqual(['/services', '/services/mp-relay/functions', '/services/mp-relay/functions/server/triggers', '/custom-domains']);
    expect(posts[1]![1]).toEqual({
      functionName: 'server',
      description: 'mp-relay server mode (all five endpoints)',
      handler: 'index.handler',
      runtime: 'custom.debian10',
      memorySize: 512,
      timeout: 30,
      environmentVariables: { ...RELAY_ENV, RELAY_PUBLIC_HOST: 'api.example.cn' },
      instanceConcurrency: 80,
      caPort: 9000,
      customRuntimeConfig: { command: ['/code/bootstrap'] },
      instanceLifecycleConfig: { preStop: { handler: 'pre-stop', timeout: 15 } },
      code: { zipFile: zipBase64('web.zip') },
    });
    expect(posts[2]![1]).toEqual({ triggerName: 'http', triggerType: 'http', triggerConfig: { authType: 'anonymous', methods: ['GET', 'POST', 'PUT', 'DELETE'] } });
    expect(posts[3]![1].routeConfig.routes).toEqual([{ path: '/*', serviceName: 'mp-relay', functionName: 'server', qualifier: 'LATEST', methods: ['GET', 'POST', 'PUT', 'DELETE'] }]);
  });

  test.each([
    [['--mode', 'servers'], {}, /--mode must be functions or server \(got "servers"\)/],
    [['--mode=server'], { MP_RELAY_CONCURRENCY: '101' }, /MP_RELAY_CONCURRENCY must be at most 100/],
    [['--mode=server'], { RELAY_MAX_SOCKETS: '0' }, /RELAY_MAX_SOCKETS must be a whole number of at least 1/],
  ])('%j with %j is refused before any call', async (args, extra, message) => {
    const run = await runTool('deploy-aliyun', args, { ...env, ...extra });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(fc.calls).toEqual([]);
  });

  test('a second run updates everything and creates nothing', async () => {
    expect((await runTool('deploy-aliyun', [], env)).code).toBe(0);
    const firstState = [...fc.state.keys()].sort();
    fc.calls.length = 0;
    const again = await runTool('deploy-aliyun', [], { ...env, MP_RELAY_MEMORY_MB: '512' });
    expect(again.code).toBe(0);
    expect(fc.calls.filter((call) => call.method === 'POST')).toEqual([]);
    expect(fc.calls.filter((call) => call.method === 'PUT').map((call) => call.target)).toEqual([
      '/services/mp-relay',
      ...FUNCTIONS.flatMap(([fn]) => [`/services/mp-relay/functions/${fn}`, `/services/mp-relay/functions/${fn}/triggers/http`]),
      '/custom-domains/api.example.cn',
    ]);
    expect([...fc.state.keys()].sort()).toEqual(firstState);
    expect(fc.state.get('/services/mp-relay/functions/get').memorySize).toBe(512);
  });

  test('--dry-run sends nothing, needs no credentials, and prints each call without the private key', async () => {
    const { ALIBABA_CLOUD_ACCESS_KEY_ID: _id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: _secret, ...withoutKeys } = env;
    const run = await runTool('deploy-aliyun', ['--dry-run'], withoutKeys);
    expect(run.code).toBe(0);
    expect(fc.calls).toEqual([]);
    expect(run.stdout).toContain('Dry run: nothing is sent');
    expect(run.stdout).toContain('if missing: POST /services/mp-relay/functions');
    expect(run.stdout).toContain('if present: PUT /custom-domains/api.example.cn');
    expect(run.stdout).not.toContain('PRIVATE KEY');
  });

  test('the signing secret reaches the functions but is never printed', async () => {
    const secret = 'a-signing-secret-0123456789';
    const run = await runTool('deploy-aliyun', [], { ...env, RELAY_SIGNING_SECRET: secret });
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain(secret);
    expect((await runTool('deploy-aliyun', ['--dry-run'], { ...env, RELAY_SIGNING_SECRET: secret })).stdout).not.toContain(secret);
    expect(fc.state.get('/services/mp-relay/functions/get').environmentVariables.RELAY_SIGNING_SECRET).toBe(secret);
  });

  test.each(Object.keys(CREDENTIALS))('without %s it stops before any call, naming it', async (name) => {
    const { [name]: _dropped, ...rest } = env;
    const run = await runTool('deploy-aliyun', [], rest);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^deploy:aliyun: missing ${name}: \\S`));
    expect(run.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(fc.calls).toEqual([]);
  });

  test.each([
    ['a refused AccessKey', { status: 401, json: { ErrorCode: 'InvalidAccessKeyID', ErrorMessage: 'invalid' } }, /the AccessKey was refused \(InvalidAccessKeyID\)/],
    ['a RAM user without FC rights', { status: 403, json: { ErrorCode: 'AccessDenied', ErrorMessage: 'denied' } }, /may not manage Function Compute here \(AccessDenied\).*AliyunFCFullAccess/],
    ['an account without FC', { status: 403, json: { ErrorCode: 'ServiceNotActivated', ErrorMessage: 'inactive' } }, /not activated/],
  ])('%s: refused by the read-only check, before anything is created', async (_case, answer, message) => {
    const refusing = await startFcStandIn({ accountSettings: answer });
    try {
      const run = await runTool('deploy-aliyun', [], { ...env, ALIYUN_FC_ENDPOINT: refusing.url });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toMatch(/Nothing was created or changed/);
      expect(refusing.calls.map((call) => `${call.method} ${call.target}`)).toEqual(['GET /account-settings']);
    } finally {
      await refusing.close();
    }
  });

  test('a region with no reachable FC endpoint is named, and nothing is attempted', async () => {
    // A closed loopback port stands in for a region whose endpoint does not exist.
    const run = await runTool('deploy-aliyun', [], { ...env, ALIYUN_FC_ENDPOINT: 'http://127.0.0.1:9', MP_RELAY_REGION: 'cn-nowhere' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/region cn-nowhere has no reachable Function Compute API at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)/);
  });

  test('a domain without its certificate is refused before any call: a mini program calls HTTPS only', async () => {
    const { MP_RELAY_CERT_FILE: _cert, MP_RELAY_KEY_FILE: _key, ...withoutCert } = env;
    const run = await runTool('deploy-aliyun', [], withoutCert);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/MP_RELAY_DOMAIN=api\.example\.cn needs MP_RELAY_CERT_FILE and MP_RELAY_KEY_FILE .*HTTPS only/);
    expect(fc.calls).toEqual([]);
  });

  test('a bad relay setting is refused with the relay’s own message', async () => {
    const run = await runTool('deploy-aliyun', [], { ...env, UPSTREAM_URL: 'http://api.example.com' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/UPSTREAM_URL: must use https:\/\//);
    expect(fc.calls).toEqual([]);
  });
});

describe('deploy:tencent (tencentcloud-sdk-nodejs-scf)', () => {
  const CREDENTIALS = { TENCENTCLOUD_SECRET_ID: 'AKID-test', TENCENTCLOUD_SECRET_KEY: 'test-key' };
  let scf: StandIn;
  let env: Record<string, string>;
  beforeEach(async () => {
    scf = await startScfStandIn();
    env = { ...CREDENTIALS, ...RELAY_ENV, TENCENTCLOUD_SCF_ENDPOINT: scf.url, MP_RELAY_DOMAIN: 'api.example.cn', MP_RELAY_CERT_ID: 'cert-abc123' };
  });
  afterEach(() => scf.close());
  const actions = () => scf.calls.map((call) => `${call.target} ${call.body?.FunctionName ?? call.body?.Domain ?? ''}`.trim());
  const FUNCTION_URL = { AuthType: 'NONE', NetConfig: { EnableIntranet: false, EnableExtranet: true } };

  test('a first run creates four event functions with function URLs and the custom domain', async () => {
    const run = await runTool('deploy-tencent', [], env);
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(actions()).toEqual([
      ...FUNCTIONS.flatMap(([fn]) => [
        `GetFunction mp-relay-${fn}`,
        `CreateFunction mp-relay-${fn}`,
        `GetFunction mp-relay-${fn}`, // waits until Active
        `ListTriggers mp-relay-${fn}`,
        `CreateTrigger mp-relay-${fn}`,
      ]),
      'GetCustomDomain api.example.cn',
      'CreateCustomDomain api.example.cn',
    ]);
    expect(scf.calls.every((call) => call.authorization.includes('Credential=AKID-test/'))).toBe(true);
    for (const [fn] of FUNCTIONS) {
      const created = scf.calls.find((call) => call.target === 'CreateFunction' && call.body.FunctionName === `mp-relay-${fn}`)!.body;
      expect(created).toEqual({
        FunctionName: `mp-relay-${fn}`,
        Namespace: 'default',
        Type: 'Event',
        Handler: 'index.main_handler',
        Description: 'mp-relay',
        MemorySize: 256,
        Timeout: 30,
        Runtime: 'Nodejs18.15',
        Environment: { Variables: [{ Key: 'UPSTREAM_URL', Value: RELAY_ENV.UPSTREAM_URL }, { Key: 'RELAY_TIMEOUT_MS', Value: '20000' }, { Key: 'RELAY_PUBLIC_HOST', Value: 'api.example.cn' }] },
        Code: { ZipFile: zipBase64(`${fn}.zip`) },
      });
      const trigger = scf.calls.find((call) => call.target === 'CreateTrigger' && call.body.FunctionName === `mp-relay-${fn}`)!.body;
      expect({ ...trigger, TriggerDesc: JSON.parse(trigger.TriggerDesc) }).toEqual({
        FunctionName: `mp-relay-${fn}`,
        Namespace: 'default',
        TriggerName: 'url',
        Type: 'http',
        TriggerDesc: FUNCTION_URL,
        Qualifier: '$LATEST',
      });
    }
    const domain = scf.calls.find((call) => call.target === 'CreateCustomDomain')!.body;
    expect(domain).toEqual({
      Domain: 'api.example.cn',
      Protocol: 'HTTP&HTTPS',
      CertConfig: { CertificateId: 'cert-abc123' },
      EndpointsConfig: FUNCTIONS.flatMap(([fn]) => [`/${fn}`, `/${fn}/*`].map((PathMatch) => ({ Namespace: 'default', FunctionName: `mp-relay-${fn}`, Qualifier: '$LATEST', PathMatch }))),
    });
  });

  test('a second run updates code, configuration, function URLs and the domain, and creates nothing', async () => {
    expect((await runTool('deploy-tencent', [], env)).code).toBe(0);
    scf.calls.length = 0;
    expect((await runTool('deploy-tencent', [], env)).code).toBe(0);
    expect(actions().filter((action) => action.startsWith('Create'))).toEqual([]);
    expect(actions().filter((action) => action.startsWith('Update'))).toEqual([
      ...FUNCTIONS.flatMap(([fn]) => [`UpdateFunctionCode mp-relay-${fn}`, `UpdateFunctionConfiguration mp-relay-${fn}`, `UpdateTrigger mp-relay-${fn}`]),
      'UpdateCustomDomain api.example.cn',
    ]);
    expect(scf.state.get('function default/mp-relay-get').Triggers).toHaveLength(1);
  });

  test('the signing secret reaches the functions but is never printed', async () => {
    const secret = 'a-signing-secret-0123456789';
    const run = await runTool('deploy-tencent', [], { ...env, RELAY_SIGNING_SECRET: secret });
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain(secret);
    expect((await runTool('deploy-tencent', ['--dry-run'], { ...env, RELAY_SIGNING_SECRET: secret })).stdout).not.toContain(secret);
    const variables = scf.state.get('function default/mp-relay-get').Environment.Variables;
    expect(variables).toContainEqual({ Key: 'RELAY_SIGNING_SECRET', Value: secret });
  });

  test('a domain without its certificate is refused before any call: a mini program calls HTTPS only', async () => {
    const { MP_RELAY_CERT_ID: _cert, ...withoutCert } = env;
    const run = await runTool('deploy-tencent', [], withoutCert);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/MP_RELAY_DOMAIN=api\.example\.cn needs MP_RELAY_CERT_ID .*HTTPS only/);
    expect(scf.calls).toEqual([]);
  });

  test.each([[['--mode', 'web']], [['--web']]])('%j deploys one web function from dist/web.zip with multi-concurrency, routed at /*', async (args) => {
    const run = await runTool('deploy-tencent', args, { ...env, MP_RELAY_CONCURRENCY: '40' });
    expect(run.code).toBe(0);
    const created = scf.calls.filter((call) => call.target === 'CreateFunction').map((call) => call.body);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ FunctionName: 'mp-relay-web', Type: 'HTTP', Handler: 'scf_bootstrap', MemorySize: 512, Code: { ZipFile: zipBase64('web.zip') } });
    expect(created[0].InstanceConcurrencyConfig).toEqual({ DynamicEnabled: 'FALSE', MaxConcurrency: 40 });
    // A second run keeps it: the configuration update carries it too.
    expect((await runTool('deploy-tencent', args, { ...env, MP_RELAY_CONCURRENCY: '60' })).code).toBe(0);
    const updated = scf.calls.filter((call) => call.target === 'UpdateFunctionConfiguration').map((call) => call.body);
    expect(updated.at(-1).InstanceConcurrencyConfig).toEqual({ DynamicEnabled: 'FALSE', MaxConcurrency: 60 });
    const domain = scf.calls.find((call) => call.target === 'CreateCustomDomain')!.body;
    expect(domain.EndpointsConfig).toEqual([{ Namespace: 'default', FunctionName: 'mp-relay-web', Qualifier: '$LATEST', PathMatch: '/*' }]);
  });

  test('--dry-run sends nothing, needs no credentials, and prints each call', async () => {
    const { TENCENTCLOUD_SECRET_ID: _id, TENCENTCLOUD_SECRET_KEY: _key, ...withoutKeys } = env;
    const run = await runTool('deploy-tencent', ['--dry-run'], withoutKeys);
    expect(run.code).toBe(0);
    expect(scf.calls).toEqual([]);
    expect(run.stdout).toContain('if missing: CreateFunction mp-relay-getDownImg');
    expect(run.stdout).toContain('if present: UpdateCustomDomain');
  });

  test.each(Object.keys(CREDENTIALS))('without %s it stops before any call, naming it', async (name) => {
    const { [name]: _dropped, ...rest } = env;
    const run = await runTool('deploy-tencent', [], rest);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^deploy:tencent: missing ${name}: \\S`));
    expect(scf.calls).toEqual([]);
  });
});
