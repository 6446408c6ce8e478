// `npm run deploy:aliyun [-- --dry-run] [-- --mode server]`: the five functions on Aliyun Function
// Compute with anonymous HTTP triggers (no API Gateway, so no 3 s cut-off), and optionally a custom
// domain routing /get, /post, /put, /getDownImg, /delete (and everything under them) to them, with its
// certificate. `--mode server`: one custom-runtime function running dist/web, many calls per instance,
// with every path routed to it (docs/cost.md compares the two). Uses the FC API through @alicloud/fc2.
// Idempotent: every resource is read first, then created or updated.
import Client, { type FcError } from '@alicloud/fc2';
import { readFileSync } from 'node:fs';
import { PreflightError, redact, runDeploy, type Resource } from './plan';
import { concurrency, deployMode, FUNCTIONS, positiveInt, relayEnvironment, SECRET_VARIABLES, SettingsError, type Env } from './settings';

const CREDENTIALS = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: 'the AccessKey ID of a RAM user allowed to manage Function Compute',
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'the AccessKey secret that goes with it',
  ALIBABA_CLOUD_ACCOUNT_ID: 'your Aliyun account ID (主账号 ID, shown in the console under the avatar)',
};

/** Server mode's one function: the custom runtime starts dist/web through its bootstrap. */
const SERVER = {
  name: 'server',
  // custom.debian10 carries Node.js 20 (/var/fc/lang/nodejs20), which the bootstrap runs (help doc 132053).
  runtime: 'custom.debian10',
  // FC unpacks the code at /code; caPort is the port the server listens on (FC_CUSTOM_LISTEN_PORT).
  command: ['/code/bootstrap'],
  caPort: 9000,
  // FC calls GET /pre-stop before stopping an instance; longer than RELAY_SHUTDOWN_GRACE_MS's default.
  preStopTimeoutS: 15,
  // The five endpoints' methods, on one trigger and one route.
  methods: [...new Set(FUNCTIONS.map(({ method }) => method))],
};

interface Plan {
  mode: 'functions' | 'server';
  /** Server mode: calls per instance (fc3 schema and the 2016-08-15 API: 1 to 100). */
  concurrency: number;
  region: string;
  service: string;
  runtime: string;
  memorySize: number;
  timeout: number;
  environmentVariables: Record<string, string>;
  domain?: { name: string; cert: { certName: string; certificate: string; privateKey: string } };
}

function readPlan(env: Env, argv: readonly string[]): Plan {
  const mode = deployMode(argv, ['functions', 'server'] as const);
  const domainName = env.MP_RELAY_DOMAIN?.trim();
  const certFile = env.MP_RELAY_CERT_FILE?.trim();
  const keyFile = env.MP_RELAY_KEY_FILE?.trim();
  if (Boolean(certFile) !== Boolean(keyFile)) throw new SettingsError('set both MP_RELAY_CERT_FILE and MP_RELAY_KEY_FILE (PEM files), or neither');
  // A mini program calls HTTPS only: a domain without its certificate would not work, and re-running
  // without one would take HTTPS off a domain that had it.
  if (domainName && !certFile) throw new SettingsError(`MP_RELAY_DOMAIN=${domainName} needs MP_RELAY_CERT_FILE and MP_RELAY_KEY_FILE (its certificate and key, PEM): a mini program calls HTTPS only`);
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new SettingsError(`cannot read ${file}: ${(error as Error).message}`);
    }
  };
  return {
    mode,
    concurrency: mode === 'server' ? concurrency(env, 100) : 1,
    region: env.MP_RELAY_REGION?.trim() || 'cn-shanghai',
    service: env.MP_RELAY_SERVICE?.trim() || 'mp-relay',
    runtime: mode === 'server' ? SERVER.runtime : env.MP_RELAY_RUNTIME?.trim() || 'nodejs18',
    memorySize: positiveInt(env, 'MP_RELAY_MEMORY_MB', mode === 'server' ? 512 : 256),
    timeout: positiveInt(env, 'MP_RELAY_TIMEOUT_S', 30),
    environmentVariables: relayEnvironment(env),
    domain: domainName ? { name: domainName, cert: { certName: domainName.replace(/\./g, '-'), certificate: read(certFile!), privateKey: read(keyFile!) } } : undefined,
  };
}

function resources(client: Client, plan: Plan, zipOf: (fn: string) => string): Resource[] {
  const isMissing = (error: unknown) => /NotFound$/.test((error as FcError).code ?? '');
  const { service } = plan;
  const list: Resource[] = [];

  const serviceOptions = { description: 'mp-relay: WeChat mini program relay', internetAccess: true };
  list.push({
    label: `service ${service}`,
    isMissing,
    read: { describe: `GET /services/${service}`, run: () => client.getService(service) },
    create: { describe: 'POST /services', body: { serviceName: service, ...serviceOptions }, run: () => client.createService(service, serviceOptions) },
    update: { describe: `PUT /services/${service}`, body: serviceOptions, run: () => client.updateService(service, serviceOptions) },
  });

  const functions = plan.mode === 'server' ? [{ name: SERVER.name, methods: SERVER.methods, zip: 'web' }] : FUNCTIONS.map(({ name, method }) => ({ name, methods: [method], zip: name }));
  for (const { name, methods, zip } of functions) {
    const options = () => ({
      description: plan.mode === 'server' ? 'mp-relay server mode (all five endpoints)' : `mp-relay /${name}`,
      handler: 'index.handler',
      runtime: plan.runtime,
      memorySize: plan.memorySize,
      timeout: plan.timeout,
      environmentVariables: plan.environmentVariables,
      ...(plan.mode === 'server'
        ? {
            instanceConcurrency: plan.concurrency,
            caPort: SERVER.caPort,
            customRuntimeConfig: { command: SERVER.command },
            instanceLifecycleConfig: { preStop: { handler: 'pre-stop', timeout: SERVER.preStopTimeoutS } },
          }
        : {}),
      code: { zipFile: zipOf(zip) },
    });
    const shown = redact({ ...options(), code: { zipFile: `<base64 of dist/${zip}.zip>` } }, SECRET_VARIABLES);
    list.push({
      label: `function ${name}`,
      isMissing,
      read: { describe: `GET /services/${service}/functions/${name}`, run: () => client.getFunction(service, name) },
      create: { describe: `POST /services/${service}/functions`, body: { functionName: name, ...shown }, run: () => client.createFunction(service, { functionName: name, ...options() }) },
      update: { describe: `PUT /services/${service}/functions/${name}`, body: shown, run: () => client.updateFunction(service, name, options()) },
    });
    // Anonymous: the mini program calls without Aliyun signatures; the relay does its own checks.
    const triggerConfig = { authType: 'anonymous' as const, methods };
    const trigger = { triggerName: 'http', triggerType: 'http' as const, triggerConfig };
    const triggerPath = `/services/${service}/functions/${name}/triggers`;
    list.push({
      label: `HTTP trigger of ${name}`,
      isMissing,
      read: { describe: `GET ${triggerPath}/http`, run: () => client.getTrigger(service, name, 'http') },
      create: { describe: `POST ${triggerPath}`, body: trigger, run: () => client.createTrigger(service, name, trigger) },
      update: { describe: `PUT ${triggerPath}/http`, body: { triggerConfig }, run: () => client.updateTrigger(service, name, 'http', { triggerConfig }) },
    });
  }

  if (plan.domain) {
    const { name: domain, cert } = plan.domain;
    // `/get` for the query style and `/get/*` for the path style, for each function; server mode takes every path.
    const routes =
      plan.mode === 'server'
        ? [{ path: '/*', serviceName: service, functionName: SERVER.name, qualifier: 'LATEST', methods: SERVER.methods }]
        : FUNCTIONS.flatMap(({ name, method }) => [`/${name}`, `/${name}/*`].map((path) => ({ path, serviceName: service, functionName: name, qualifier: 'LATEST', methods: [method] })));
    const options = { protocol: 'HTTP,HTTPS' as const, certConfig: cert, routeConfig: { routes } };
    const shown = redact(options, ['privateKey', 'certificate']);
    list.push({
      label: `custom domain ${domain}`,
      isMissing,
      read: { describe: `GET /custom-domains/${domain}`, run: () => client.getCustomDomain(domain) },
      create: { describe: 'POST /custom-domains', body: { domainName: domain, ...shown }, run: () => client.createCustomDomain(domain, options) },
      update: { describe: `PUT /custom-domains/${domain}`, body: shown, run: () => client.updateCustomDomain(domain, options) },
    });
  }
  return list;
}

function clientFor(plan: Plan, credentials: Record<string, string> | undefined, env: Env) {
  const accountId = credentials?.ALIBABA_CLOUD_ACCOUNT_ID ?? (env.ALIBABA_CLOUD_ACCOUNT_ID?.trim() || 'ACCOUNT_ID');
  const endpoint = env.ALIYUN_FC_ENDPOINT?.trim() || `https://${accountId}.${plan.region}.fc.aliyuncs.com`;
  return { accountId, endpoint };
}

function connect(plan: Plan, credentials: Record<string, string> | undefined, env: Env): Client {
  const { accountId, endpoint } = clientFor(plan, credentials, env);
  return new Client(accountId, {
    accessKeyID: credentials?.ALIBABA_CLOUD_ACCESS_KEY_ID ?? 'dry-run',
    accessKeySecret: credentials?.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? 'dry-run',
    region: plan.region,
    endpoint,
  });
}

/**
 * GET /account-settings (FC 2016-08-15 API, read-only): proves the region has an FC API endpoint, the
 * AccessKey is valid and the account may use FC, before anything is created.
 */
async function checkAccount(plan: Plan, credentials: Record<string, string>, env: Env): Promise<void> {
  const { endpoint } = clientFor(plan, credentials, env);
  try {
    await connect(plan, credentials, env).getAccountSettings();
  } catch (error) {
    const { code = '', message = '' } = error as FcError & { code?: string };
    if (/^(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET)$/.test(code)) {
      throw new PreflightError(`region ${plan.region} has no reachable Function Compute API at ${endpoint} (${code}); set MP_RELAY_REGION to a region where FC (2016-08-15 API) is offered, such as cn-shanghai or cn-hangzhou`);
    }
    if (/AccessKey|Signature|InvalidAccessKeyId/i.test(code)) {
      throw new PreflightError(`the AccessKey was refused (${code}); check ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET`);
    }
    if (/AccessDenied|Forbidden|NoPermission/i.test(code)) {
      throw new PreflightError(`the RAM user may not manage Function Compute here (${code}); grant it AliyunFCFullAccess, or the actions listed in docs/deploy.md`);
    }
    if (/NotActivated|NotEnabled|Unactivated|Inactive/i.test(code)) {
      throw new PreflightError(`Function Compute is not activated for account ${credentials.ALIBABA_CLOUD_ACCOUNT_ID} (${code}); activate it in the console first`);
    }
    throw new PreflightError(`Function Compute refused the account check (${code || 'no code'}: ${message.slice(0, 200)})`);
  }
}

runDeploy<Plan>({
  name: 'deploy:aliyun',
  readPlan: (env, argv) => readPlan(env, argv),
  credentials: CREDENTIALS,
  describe: (plan, env) => `Deploying mp-relay (${plan.mode === 'server' ? `server mode, ${plan.concurrency} calls per instance` : 'five functions'}) to Aliyun FC ${plan.region} (${clientFor(plan, undefined, env).endpoint}), service ${plan.service}`,
  preflight: { describe: 'GET /account-settings', run: checkAccount },
  resources(plan, credentials, env) {
    return resources(connect(plan, credentials, env), plan, (fn) => readFileSync(`dist/${fn}.zip`).toString('base64'));
  },
  done: (plan, env) =>
    plan.domain
      ? `Done. Point a CNAME for ${plan.domain.name} at ${clientFor(plan, undefined, env).accountId}.${plan.region}.fc.aliyuncs.com, then: npm run smoke -- https://${plan.domain.name}`
      : 'Done. Set MP_RELAY_DOMAIN (and the certificate files) to map your filed domain.',
});
