// `npm run deploy:tencent [-- --dry-run] [-- --mode web]`: mp-relay on Tencent SCF through Tencent's official
// Node SDK (tencentcloud-sdk-nodejs-scf). By default the five event functions, each with a function
// URL; with `--mode web` (or `--web`) one web function serving all five endpoints, MP_RELAY_CONCURRENCY
// calls per instance (multi-concurrency; docs/cost.md compares the modes). With MP_RELAY_DOMAIN, a custom domain
// routes /get, /post, /put, /getDownImg, /delete to them (CreateCustomDomain). Idempotent: each resource is read
// first, then created or updated.
//
// Why this path: API Gateway triggers went offline on 2025-06-30 (583/107631; function URLs and web
// functions replace them), serverless@3 no longer runs Tencent's component YAML, and Tencent's own `scf` CLI logs in by
// QR code and runs its components in Tencent's cloud. Plain API calls through the SDK need only an
// API key, run in CI, and can be tested against a local stand-in.
import tencentcloud from 'tencentcloud-sdk-nodejs-scf';
import { readFileSync } from 'node:fs';
import { runDeploy, type Resource } from './plan';
import { concurrency, deployMode, FUNCTIONS, positiveInt, relayEnvironment, SECRET_VARIABLES, SettingsError, type Env } from './settings';

const CREDENTIALS = {
  TENCENTCLOUD_SECRET_ID: 'the SecretId of an API key allowed to manage SCF (访问管理 > API 密钥)',
  TENCENTCLOUD_SECRET_KEY: 'the SecretKey that goes with it',
};

// A function URL open to anyone on the internet: the mini program calls without Tencent signatures.
const FUNCTION_URL = JSON.stringify({ AuthType: 'NONE', NetConfig: { EnableIntranet: false, EnableExtranet: true } });

type ScfClient = InstanceType<typeof tencentcloud.scf.v20180416.Client>;

interface Plan {
  /**
   * Web mode: calls one instance serves at once, as SCF's InstanceConcurrencyConfig (MaxConcurrency
   * 1 to 100 in the API's models; DynamicEnabled FALSE keeps it fixed). Undefined for event functions.
   * github.com/TencentCloud/tencentcloud-sdk-nodejs src/services/scf/v20180416/scf_models.ts (InstanceConcurrencyConfig);
   * the console offers 2 to 100 (https://www.tencentcloud.com/zh/document/product/583/47183).
   */
  instanceConcurrency?: { DynamicEnabled: 'FALSE'; MaxConcurrency: number };
  region: string;
  namespace: string;
  runtime: string;
  memorySize: number;
  timeout: number;
  variables: { Key: string; Value: string }[];
  functions: { name: string; type: 'Event' | 'HTTP'; zip: string; handler: string; routes: string[] }[];
  domain?: { name: string; certificateId?: string };
}

function readPlan(env: Env, argv: readonly string[]): Plan {
  const web = deployMode(argv, ['functions', 'web'] as const, { '--web': 'web' }) === 'web';
  const prefix = env.MP_RELAY_FUNCTION_PREFIX?.trim() || 'mp-relay-';
  const domainName = env.MP_RELAY_DOMAIN?.trim();
  return {
    instanceConcurrency: web ? { DynamicEnabled: 'FALSE', MaxConcurrency: concurrency(env, 100) } : undefined,
    region: env.MP_RELAY_REGION?.trim() || 'ap-guangzhou',
    namespace: env.MP_RELAY_NAMESPACE?.trim() || 'default',
    runtime: env.MP_RELAY_RUNTIME?.trim() || 'Nodejs18.15',
    memorySize: positiveInt(env, 'MP_RELAY_MEMORY_MB', web ? 512 : 256),
    timeout: positiveInt(env, 'MP_RELAY_TIMEOUT_S', 30),
    variables: Object.entries(relayEnvironment(env)).map(([Key, Value]) => ({ Key, Value })),
    functions: web
      ? [{ name: `${prefix}web`, type: 'HTTP', zip: 'dist/web.zip', handler: 'scf_bootstrap', routes: ['/*'] }]
      : FUNCTIONS.map(({ name }) => ({ name: `${prefix}${name}`, type: 'Event', zip: `dist/${name}.zip`, handler: 'index.main_handler', routes: [`/${name}`, `/${name}/*`] })),
    domain: domainName ? { name: domainName, certificateId: certificateFor(domainName, env.MP_RELAY_CERT_ID?.trim()) } : undefined,
  };
}

/**
 * A mini program calls HTTPS only, so a domain without a certificate would be a deploy that does not
 * work, and re-running without one would take HTTPS off a domain that had it.
 */
function certificateFor(domain: string, certificateId: string | undefined): string {
  if (!certificateId) throw new SettingsError(`MP_RELAY_DOMAIN=${domain} needs MP_RELAY_CERT_ID (the SSL certificate's ID in Tencent Cloud): a mini program calls HTTPS only`);
  return certificateId;
}

const isMissing = (error: unknown) => /^ResourceNotFound/.test(String((error as { code?: string }).code ?? ''));

class NotFound extends Error {
  code = 'ResourceNotFound.Trigger';
}

/** SCF applies changes asynchronously: wait until the function is Active before the next call. */
async function waitActive(client: ScfClient, FunctionName: string, Namespace: string): Promise<void> {
  for (let attempt = 0; attempt < 120; attempt++) {
    const { Status } = await client.GetFunction({ FunctionName, Namespace });
    if (Status === 'Active') return;
    if (Status && /Failed/i.test(Status)) throw new Error(`function ${FunctionName} is ${Status}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error(`function ${FunctionName} did not become Active within 2 minutes`);
}

function resources(client: ScfClient, plan: Plan): Resource[] {
  const Namespace = plan.namespace;
  const list: Resource[] = [];
  for (const fn of plan.functions) {
    const FunctionName = fn.name;
    const configuration = {
      MemorySize: plan.memorySize,
      Timeout: plan.timeout,
      Runtime: plan.runtime,
      Environment: { Variables: plan.variables },
      ...(plan.instanceConcurrency ? { InstanceConcurrencyConfig: plan.instanceConcurrency } : {}),
    };
    const zipFile = () => readFileSync(fn.zip).toString('base64');
    const shownZip = `<base64 of ${fn.zip}>`;
    const create = { FunctionName, Namespace, Type: fn.type, Handler: fn.handler, Description: 'mp-relay', ...configuration };
    const shownConfiguration = { ...configuration, Environment: { Variables: plan.variables.map(({ Key, Value }) => ({ Key, Value: SECRET_VARIABLES.includes(Key) ? '<not shown>' : Value })) } };
    list.push({
      label: `function ${FunctionName}`,
      isMissing,
      read: { describe: `GetFunction ${FunctionName}`, run: () => client.GetFunction({ FunctionName, Namespace }) },
      create: {
        describe: `CreateFunction ${FunctionName}`,
        body: { ...create, ...shownConfiguration, Code: { ZipFile: shownZip } },
        run: async () => {
          await client.CreateFunction({ ...create, Code: { ZipFile: zipFile() } });
          await waitActive(client, FunctionName, Namespace);
        },
      },
      update: {
        describe: `UpdateFunctionCode, then UpdateFunctionConfiguration ${FunctionName}`,
        body: [{ FunctionName, Namespace, Handler: fn.handler, ZipFile: shownZip }, { FunctionName, Namespace, ...shownConfiguration }],
        run: async () => {
          await client.UpdateFunctionCode({ FunctionName, Namespace, Handler: fn.handler, ZipFile: zipFile() });
          await waitActive(client, FunctionName, Namespace);
          await client.UpdateFunctionConfiguration({ FunctionName, Namespace, ...configuration });
          await waitActive(client, FunctionName, Namespace);
        },
      },
    });

    // A function URL is a trigger of type http (https://cloud.tencent.com/document/product/583/100227).
    const trigger = { FunctionName, Namespace, TriggerName: 'url', Type: 'http', TriggerDesc: FUNCTION_URL, Qualifier: '$LATEST' };
    list.push({
      label: `function URL of ${FunctionName}`,
      isMissing,
      read: {
        describe: `ListTriggers ${FunctionName}`,
        run: async () => {
          const { Triggers } = await client.ListTriggers({ FunctionName, Namespace });
          if (!Triggers?.some((item) => item.Type === 'http' && item.TriggerName === 'url')) throw new NotFound();
        },
      },
      create: { describe: `CreateTrigger ${FunctionName} url`, body: trigger, run: () => client.CreateTrigger(trigger) },
      update: { describe: `UpdateTrigger ${FunctionName} url`, body: trigger, run: () => client.UpdateTrigger(trigger) },
    });
  }

  if (plan.domain) {
    const { name: Domain, certificateId } = plan.domain;
    const options = {
      Domain,
      Protocol: 'HTTP&HTTPS',
      EndpointsConfig: plan.functions.flatMap((fn) => fn.routes.map((PathMatch) => ({ Namespace, FunctionName: fn.name, Qualifier: '$LATEST', PathMatch }))),
      CertConfig: { CertificateId: certificateId },
    };
    list.push({
      label: `custom domain ${Domain}`,
      isMissing,
      read: { describe: `GetCustomDomain ${Domain}`, run: () => client.GetCustomDomain({ Domain }) },
      create: { describe: `CreateCustomDomain ${Domain}`, body: options, run: () => client.CreateCustomDomain(options) },
      update: { describe: `UpdateCustomDomain ${Domain}`, body: options, run: () => client.UpdateCustomDomain(options) },
    });
  }
  return list;
}

/** TENCENTCLOUD_SCF_ENDPOINT points the SDK elsewhere (tests use a local stand-in: http://127.0.0.1:port). */
function endpointOf(env: Env) {
  const override = env.TENCENTCLOUD_SCF_ENDPOINT?.trim();
  return { host: override ? override.replace(/^https?:\/\//, '') : 'scf.tencentcloudapi.com', protocol: override?.startsWith('http://') ? 'http://' : 'https://' };
}

runDeploy<Plan>({
  name: 'deploy:tencent',
  readPlan: (env, argv) => readPlan(env, argv),
  credentials: CREDENTIALS,
  describe: (plan, env) => `Deploying mp-relay to Tencent SCF ${plan.region} (${endpointOf(env).host}), namespace ${plan.namespace}`,
  resources(plan, credentials, env) {
    const { host, protocol } = endpointOf(env);
    const client = new tencentcloud.scf.v20180416.Client({
      credential: { secretId: credentials?.TENCENTCLOUD_SECRET_ID ?? 'dry-run', secretKey: credentials?.TENCENTCLOUD_SECRET_KEY ?? 'dry-run' },
      region: plan.region,
      profile: { httpProfile: { endpoint: host, protocol } },
    });
    return resources(client, plan);
  },
  done: (plan) =>
    plan.domain
      ? `Done. Add the CNAME record the SCF console shows for ${plan.domain.name} (函数服务 > 自定义域名), then: npm run smoke -- https://${plan.domain.name}`
      : 'Done. Set MP_RELAY_DOMAIN (and MP_RELAY_CERT_ID) to map your filed domain.',
});
