import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { FUNCTIONS } from './helpers/endpoints';
import { built } from './helpers/processes';

// The two declarative deploy paths for Aliyun, checked offline: serverless.yml by running
// `serverless package` (v3, with the Aliyun plugin) and reading what it produced; s.yaml against
// what its components (fc3, fc3-domain) require, as their published JSON schemas state it.

const ROOT = path.join(__dirname, '..');

describe('serverless.yml (Serverless Framework v3 + serverless-aliyun-function-compute)', () => {
  let project: string;
  let templates: { Resources: Record<string, { Type: string; Properties: any }> };
  let archive: Buffer;

  /** `serverless package` in a copy of the project, with a dummy credentials file and no network. */
  function slsPackage(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
    const child = spawn(process.execPath, [path.join(ROOT, 'node_modules', 'serverless', 'bin', 'serverless.js'), 'package'], {
      cwd: project,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: project,
        // CI keeps the Aliyun plugin's usage analytics off; the others silence the framework's.
        CI: '1',
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
        ALIYUN_CREDENTIALS_FILE: path.join(project, 'credentials'),
        ...env,
      },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
  }

  beforeAll(async () => {
    project = mkdtempSync(path.join(os.tmpdir(), 'mp-relay-sls-'));
    cpSync(path.join(ROOT, 'serverless.yml'), path.join(project, 'serverless.yml'));
    mkdirSync(path.join(project, 'scripts'));
    for (const plugin of ['serverless-fc-environment.js', 'serverless-apigw-settings.js']) cpSync(path.join(ROOT, 'scripts', plugin), path.join(project, 'scripts', plugin));
    for (const [fn] of FUNCTIONS) cpSync(path.dirname(built(fn, 'index.js')), path.join(project, 'dist', fn), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(project, 'node_modules'));
    writeFileSync(path.join(project, 'credentials'), '[default]\naliyun_access_key_id = dummy\naliyun_access_key_secret = dummy\naliyun_account_id = 1234567890\n');
    const run = await slsPackage({ UPSTREAM_URL: 'https://api.example.com/v1', RELAY_LOG: '0' });
    if (run.code !== 0) throw new Error(`serverless package failed:\n${run.output}`);
    templates = JSON.parse(readFileSync(path.join(project, '.serverless', 'configuration-template-update.json'), 'utf8'));
    archive = readFileSync(path.join(project, '.serverless', 'mp-relay.zip'));
  }, 60_000);
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  const ofType = (type: string) => Object.values(templates.Resources).filter((resource) => resource.Type === type).map((resource) => resource.Properties);

  test('four functions, each with its own bundle as handler and the documented defaults', () => {
    const functions = ofType('ALIYUN::FC::Function');
    expect(functions.map((fn) => [fn.name, fn.handler])).toEqual(FUNCTIONS.map(([fn]) => [`mp-relay-dev-${fn}`, `dist/${fn}/index.handler`]));
    for (const fn of functions) expect([fn.runtime, fn.memorySize, fn.timeout]).toEqual(['nodejs18', 256, 30]);
    // The one archive holds the four bundles (and nothing else: no sources, no node_modules).
    const names = [...archive.toString('latin1').matchAll(/dist\/[A-Za-z]+\/index\.js(?!\.map)/g)].map((match) => match[0]);
    expect([...new Set(names)].sort()).toEqual(FUNCTIONS.map(([fn]) => `dist/${fn}/index.js`).sort());
    expect(archive.includes('node_modules/')).toBe(false);
  });

  test('an API per function, each on HTTP and HTTPS, its path and method, a 20 s backend timeout, through API Gateway', () => {
    const apis = ofType('ALIYUN::API::HTTP');
    expect(
      apis.map((api) => [api.RequestConfig.RequestPath, api.RequestConfig.RequestHttpMethod, api.RequestConfig.RequestProtocol, api.ServiceConfig.ServiceTimeout, api.ServiceConfig.FunctionComputeConfig.FunctionName]),
    ).toEqual(FUNCTIONS.map(([fn, method]) => [`/${fn}`, method, 'HTTP,HTTPS', 20000, `mp-relay-dev-${fn}`]));
    for (const api of apis) expect([api.AuthType, api.RequestConfig.RequestMode, api.ServiceConfig.ServiceProtocol]).toEqual(['ANONYMOUS', 'PASSTHROUGH', 'FunctionCompute']);
  });

  test('what `serverless deploy` would send is the same: the update template on disk carries the settings', () => {
    const update = JSON.parse(readFileSync(path.join(project, '.serverless', 'configuration-template-update.json'), 'utf8'));
    const apis = Object.values<any>(update.Resources).filter((resource) => resource.Type === 'ALIYUN::API::HTTP');
    expect(apis).toHaveLength(FUNCTIONS.length);
    for (const api of apis) expect([api.Properties.RequestConfig.RequestProtocol, api.Properties.ServiceConfig.ServiceTimeout]).toEqual(['HTTP,HTTPS', 20000]);
  });

  test.each([
    ['shorter than 10 s', { MP_RELAY_GATEWAY_TIMEOUT_MS: '5000' }, /must be at least 10000/],
    ["past the shared gateway's 30 s ceiling", { MP_RELAY_GATEWAY_TIMEOUT_MS: '40000' }, /must be at most 30000/],
    ['not longer than the relay timeout', { RELAY_TIMEOUT_MS: '25000' }, /must be longer than RELAY_TIMEOUT_MS \(25000\)/],
  ])('a gateway timeout %s is refused at package time, naming the setting', async (_case, env, message) => {
    const run = await slsPackage({ UPSTREAM_URL: 'https://api.example.com/v1', ...env });
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/custom\.mpRelay\.apiGatewayTimeoutMs/);
    expect(run.output).toMatch(message);
  }, 60_000);

  test("the relay's settings reach every function's environment, with a timeout below the gateway's", () => {
    for (const fn of ofType('ALIYUN::FC::Function')) {
      expect(fn.environmentVariables).toEqual({
        UPSTREAM_URL: 'https://api.example.com/v1',
        RELAY_PATH_PARAM: 'method',
        RELAY_MAX_BODY_BYTES: '6291456',
        RELAY_MAX_RESPONSE_BYTES: '33554432',
        RELAY_TIMEOUT_MS: '15000',
        RELAY_LOG: '0',
        RELAY_ALLOW_PATHS: '',
        RELAY_ALLOW_APPIDS: '',
        RELAY_SIGNING_SECRET: '',
        RELAY_ALLOW_DEVTOOLS: '0',
        RELAY_ALLOW_INSECURE_UPSTREAM: '',
        RELAY_BODY_TIMEOUT_MS: '',
        RELAY_MAX_INFLIGHT: '',
        RELAY_BASE_PATH: '',
        RELAY_PUBLIC_HOST: '',
      });
      // Every setting the relay reads can be given on this path.
      const read = readFileSync(path.join(ROOT, 'functions', 'core', 'config.ts'), 'utf8').match(/'(RELAY_[A-Z_]+|UPSTREAM_URL)'/g)!.map((name) => name.slice(1, -1));
      expect([...new Set(read)].filter((name) => !(name in fn.environmentVariables))).toEqual([]);
    }
  });

  test('a .env file supplies what the environment does not', async () => {
    writeFileSync(path.join(project, '.env'), 'UPSTREAM_URL=https://from-dotenv.example.com\nMP_RELAY_REGION=cn-hangzhou\n');
    try {
      const run = await slsPackage({});
      expect(run.code).toBe(0);
      const update = JSON.parse(readFileSync(path.join(project, '.serverless', 'configuration-template-update.json'), 'utf8'));
      const fn = Object.values<any>(update.Resources).find((resource) => resource.Type === 'ALIYUN::FC::Function');
      expect(fn.Properties.environmentVariables.UPSTREAM_URL).toBe('https://from-dotenv.example.com');
      expect(update.Resources['sls-function-service'].Properties.region).toBe('cn-hangzhou');
    } finally {
      rmSync(path.join(project, '.env'));
    }
  }, 60_000);
});

/** Resolves `${env('X')}`, `${env('X', 'default')}` and `${vars.a.b}` as `s` does; anything else fails the test. */
function resolveServerlessDevs(doc: any, env: Record<string, string>): any {
  function resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(resolve);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolve(item)]));
    if (typeof value !== 'string') return value;
    const whole = /^\$\{([^}]+)\}$/.exec(value);
    if (whole) return resolveExpression(whole[1]!);
    return value.replace(/\$\{([^}]+)\}/g, (_, expression: string) => String(resolveExpression(expression)));
  }
  function resolveExpression(expression: string): unknown {
    const envCall = /^env\('([A-Z_]+)'(?:,\s*'([^']*)')?\)$/.exec(expression.trim());
    if (envCall) {
      const found = env[envCall[1]!] ?? envCall[2];
      if (found === undefined) throw new Error(`env('${envCall[1]}') has no value and no default`);
      return found;
    }
    const varRef = /^vars\.([\w.]+)$/.exec(expression.trim());
    if (varRef) return resolve(varRef[1]!.split('.').reduce((node: any, key) => node?.[key], doc.vars));
    throw new Error(`unsupported expression \${${expression}}`);
  }
  return { ...doc, resources: resolve(doc.resources) };
}

// From the components' schemas (devsapp/fc3 src/schema.json, devsapp/fc3-domain src/schema.json).
const REGIONS = ['cn-beijing', 'cn-chengdu', 'cn-hangzhou', 'cn-hongkong', 'cn-huhehaote', 'cn-qingdao', 'cn-shanghai', 'cn-shenzhen', 'cn-zhangjiakou'];
const METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'];
const FC3_PROPS = ['region', 'functionName', 'description', 'code', 'runtime', 'handler', 'memorySize', 'timeout', 'instanceConcurrency', 'environmentVariables', 'triggers', 'cpu', 'diskSize', 'role', 'logConfig', 'vpcConfig', 'internetAccess', 'layers', 'customRuntimeConfig', 'instanceLifecycleConfig'];
const HEALTH_CHECK_KEYS = ['failureThreshold', 'httpGetUrl', 'initialDelaySeconds', 'periodSeconds', 'successThreshold', 'timeoutSeconds'];

describe('s.yaml (Serverless Devs: fc3 and fc3-domain components)', () => {
  const doc = parse(readFileSync(path.join(ROOT, 's.yaml'), 'utf8'));
  const env: Record<string, string> = {
    UPSTREAM_URL: 'https://api.example.com',
    MP_RELAY_DOMAIN: 'api.example.cn',
    MP_RELAY_CERT_FILE: 'cert.pem',
    MP_RELAY_KEY_FILE: 'key.pem',
  };

  const resources = resolveServerlessDevs(doc, env).resources as Record<string, { component: string; props: any }>;
  const functions = Object.values(resources).filter((resource) => resource.component === 'fc3');
  const domain = Object.values(resources).find((resource) => resource.component === 'fc3-domain');

  test('the header is Serverless Devs 3 and every expression resolves', () => {
    expect(doc.edition).toBe('3.0.0');
    expect(functions).toHaveLength(FUNCTIONS.length);
    expect(domain).toBeDefined();
  });

  test.each(FUNCTIONS)('fc3 function %s: required props, valid values, an anonymous HTTP trigger for %s', (fn, method) => {
    const props = functions.find((resource) => resource.props.functionName === `mp-relay-${fn}`)?.props;
    expect(props).toBeDefined();
    expect(Object.keys(props).filter((key) => !FC3_PROPS.includes(key))).toEqual([]);
    for (const key of ['functionName', 'region', 'runtime', 'code', 'handler']) expect(typeof props[key]).toBe('string');
    expect(REGIONS).toContain(props.region);
    expect(props.memorySize % 64 === 0 && props.memorySize >= 128 && props.memorySize <= 32768).toBe(true);
    expect(Number.isInteger(props.timeout) && props.timeout >= 1 && props.timeout <= 86400).toBe(true);
    // Built-in runtimes take no instanceConcurrency (FC 3.0: "Standard runtimes ... no longer support the
    // instance concurrency feature"); only custom runtimes do. The runtime is the newest built-in Node.js one.
    expect(props.runtime).toBe('nodejs20');
    expect('instanceConcurrency' in props && !/^custom/.test(props.runtime)).toBe(false);
    expect(Object.values(props.environmentVariables).every((value) => typeof value === 'string')).toBe(true);
    expect(props.environmentVariables.UPSTREAM_URL).toBe(env.UPSTREAM_URL);
    // Every setting the relay reads can be given on this path too; the mapped domain is its public host.
    const read = readFileSync(path.join(ROOT, 'functions', 'core', 'config.ts'), 'utf8').match(/'(RELAY_[A-Z_]+|UPSTREAM_URL)'/g)!.map((name) => name.slice(1, -1));
    expect([...new Set(read)].filter((name) => !(name in props.environmentVariables))).toEqual([]);
    expect(props.environmentVariables.RELAY_PUBLIC_HOST).toBe(env.MP_RELAY_DOMAIN);
    expect(props.triggers).toEqual([{ triggerName: 'http', triggerType: 'http', triggerConfig: { authType: 'anonymous', methods: [method] } }]);
    // The code folder is the build's, and its handler is exported there.
    expect(props.handler).toBe('index.handler');
    expect(existsSync(path.join(ROOT, props.code, 'index.js'))).toBe(true);
  });

  test('fc3-domain: the filed domain with its certificate files, routing each function in both styles', () => {
    const props = domain!.props;
    expect(REGIONS).toContain(props.region);
    expect(props.domainName).toBe(env.MP_RELAY_DOMAIN);
    expect(['HTTP', 'HTTPS', 'HTTP,HTTPS']).toContain(props.protocol);
    expect(props.certConfig).toEqual({ certName: 'mp-relay', certificate: 'cert.pem', privateKey: 'key.pem' });
    const routes = props.routeConfig.routes as { path: string; functionName: string; methods: string[] }[];
    for (const route of routes) expect(route.methods.every((method) => METHODS.includes(method))).toBe(true);
    expect(routes.map((route) => [route.path, route.functionName, route.methods])).toEqual(
      FUNCTIONS.flatMap(([fn, method]) => [`/${fn}`, `/${fn}/*`].map((p) => [p, `mp-relay-${fn}`, [method]])),
    );
    const declared = functions.map((resource) => resource.props.functionName);
    expect(routes.every((route) => declared.includes(route.functionName))).toBe(true);
  });
});

describe('s.server.yaml (server mode: one FC 3.0 custom runtime function, fc3-domain routing every path to it)', () => {
  const doc = parse(readFileSync(path.join(ROOT, 's.server.yaml'), 'utf8'));
  const env = { UPSTREAM_URL: 'https://api.example.com', MP_RELAY_DOMAIN: 'api.example.cn', MP_RELAY_CERT_FILE: 'cert.pem', MP_RELAY_KEY_FILE: 'key.pem' };
  const resources = Object.values(resolveServerlessDevs(doc, env).resources) as { component: string; props: any }[];
  const server = resources.find((resource) => resource.component === 'fc3')!.props;
  const domain = resources.find((resource) => resource.component === 'fc3-domain')!.props;

  test('one function and one domain, Serverless Devs 3', () => {
    expect(doc.edition).toBe('3.0.0');
    expect(resources.map((resource) => resource.component).sort()).toEqual(['fc3', 'fc3-domain']);
  });

  test('a custom runtime that starts dist/web/bootstrap on port 9000, instance concurrency within the schema, FC 3.0 sizes', () => {
    expect(Object.keys(server).filter((key) => !FC3_PROPS.includes(key))).toEqual([]);
    expect([server.functionName, server.runtime, server.code]).toEqual(['mp-relay-server', 'custom.debian10', './dist/web']);
    // FC unpacks the code at /code; the bootstrap is in the archive, executable.
    expect(server.customRuntimeConfig.command).toEqual(['/code/bootstrap']);
    expect(statSync(path.join(ROOT, 'dist', 'web', 'bootstrap')).mode & 0o111).not.toBe(0);
    expect(server.customRuntimeConfig.port).toBe(9000);
    expect(Object.keys(server.customRuntimeConfig.healthCheckConfig).filter((key) => !HEALTH_CHECK_KEYS.includes(key))).toEqual([]);
    expect(server.customRuntimeConfig.healthCheckConfig.httpGetUrl).toBe('/healthz');
    expect(Number.isInteger(server.instanceConcurrency) && server.instanceConcurrency > 1 && server.instanceConcurrency <= 100).toBe(true);
    // cpu 0.05 to 16 in steps of 0.05; memory a multiple of 64 MB, 1 to 4 GB per vCPU.
    expect(Math.round(server.cpu * 100) % 5).toBe(0);
    expect(server.memorySize % 64).toBe(0);
    const gbPerCpu = server.memorySize / 1024 / server.cpu;
    expect(gbPerCpu >= 1 && gbPerCpu <= 4).toBe(true);
  });

  test('PreStop is configured and outlasts the relay\'s grace period; every relay setting can be given', () => {
    const { preStop } = server.instanceLifecycleConfig;
    expect(Object.keys(preStop).sort()).toEqual(['handler', 'timeout']);
    expect(preStop.timeout * 1000).toBeGreaterThan(Number(server.environmentVariables.RELAY_SHUTDOWN_GRACE_MS));
    expect(server.timeout).toBeGreaterThan(Number(server.environmentVariables.RELAY_TIMEOUT_MS) / 1000);
    const read = ['config.ts', 'server-settings.ts'].flatMap((file) => {
      const source = readFileSync(path.join(ROOT, 'functions', file === 'config.ts' ? 'core' : 'adapters/node-http', file), 'utf8');
      return (source.match(/'(RELAY_[A-Z_]+|UPSTREAM_URL)'/g) ?? []).map((name) => name.slice(1, -1));
    });
    // RELAY_PLATFORM is the bootstrap's to set, not the user's.
    expect([...new Set(read)].filter((name) => name !== 'RELAY_PLATFORM' && !(name in server.environmentVariables))).toEqual([]);
  });

  test('one anonymous HTTP trigger and one route for every path, with the methods of the five endpoints', () => {
    const methods = [...new Set(FUNCTIONS.map(([, method]) => method))].sort();
    expect(server.triggers).toHaveLength(1);
    expect(server.triggers[0].triggerConfig.authType).toBe('anonymous');
    expect([...server.triggers[0].triggerConfig.methods].sort()).toEqual(methods);
    expect(domain.routeConfig.routes.map((route: any) => [route.path, route.functionName, [...route.methods].sort()])).toEqual([['/*', 'mp-relay-server', methods]]);
    expect([REGIONS.includes(domain.region), domain.domainName, domain.protocol]).toEqual([true, 'api.example.cn', 'HTTP,HTTPS']);
  });
});

describe('installing never runs dependency scripts (the Aliyun plugin reports every install to Google Analytics)', () => {
  test("the reason still holds: the plugin's postinstall sends a pageview, CI or not", () => {
    const plugin = path.join(ROOT, 'node_modules', 'serverless-aliyun-function-compute');
    expect(JSON.parse(readFileSync(path.join(plugin, 'package.json'), 'utf8')).scripts.postinstall).toBe('node bin/npm-postinstall');
    expect(readFileSync(path.join(plugin, 'bin', 'npm-postinstall'), 'utf8')).toContain('sendDownloaded()');
    expect(readFileSync(path.join(plugin, 'shared', 'visitor.js'), 'utf8')).toMatch(/function sendDownloaded\(\) \{\s*real\.pageview\('\/downloaded'\)\.send\(\);/);
  });

  test('.npmrc sets ignore-scripts, and CI installs with --ignore-scripts', () => {
    const npmrc = readFileSync(path.join(ROOT, '.npmrc'), 'utf8');
    expect(npmrc.split('\n').map((line) => line.trim())).toContain('ignore-scripts=true');
    expect(readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8')).toMatch(/^npm ci [^\n]*--ignore-scripts/m);
    // npm's own scripts (test, start, build) still run under ignore-scripts; only pre/post hooks would not.
    const scripts = Object.keys(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts);
    expect(scripts.filter((name) => /^(pre|post)/.test(name))).toEqual([]);
  });
});
