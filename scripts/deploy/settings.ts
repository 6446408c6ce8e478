import { readFileSync } from 'node:fs';
import { readServerSettings } from '../../functions/adapters/node-http/server-settings';
import { loadConfig } from '../../functions/core/config';

// Settings shared by the deploy scripts: the process environment, with a `.env` file in the current
// folder filling in what the environment leaves unset (as serverless and s do).

export type Env = Record<string, string | undefined>;

/** process.env over the `KEY=value` lines of `.env` (comments, `export` and quotes allowed). */
export function environment(file = '.env'): Env {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { ...process.env };
  }
  const fromFile: Env = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match) continue;
    const raw = match[2]!;
    fromFile[match[1]!] = /^(['"]).*\1$/.test(raw) ? raw.slice(1, -1) : raw.replace(/\s+#.*$/, '');
  }
  return { ...fromFile, ...process.env };
}

export class SettingsError extends Error {}

/** The named variables, or one error listing every one that is missing, each with what it is. */
export function required<K extends string>(env: Env, wanted: Record<K, string>): Record<K, string> {
  const missing = Object.entries<string>(wanted).filter(([name]) => !env[name]?.trim());
  if (missing.length > 0) {
    throw new SettingsError(missing.map(([name, what]) => `missing ${name}: ${what}`).join('\n'));
  }
  return Object.fromEntries(Object.keys(wanted).map((name) => [name, env[name]!.trim()])) as Record<K, string>;
}

/** The relay's own settings, checked by the relay's own rules before anything is deployed. */
export function relayEnvironment(env: Env): Record<string, string> {
  // The filed domain being mapped is the relay's public host, unless it is set on its own.
  const withHost = env.RELAY_PUBLIC_HOST?.trim() || !env.MP_RELAY_DOMAIN?.trim() ? env : { ...env, RELAY_PUBLIC_HOST: env.MP_RELAY_DOMAIN.trim() };
  const config = loadConfig(withHost);
  if (!config.ok) throw new SettingsError(config.message);
  // Server mode's own settings (read by dist/web only) are checked by its rules too.
  const server = readServerSettings({ ...withHost, RELAY_PLATFORM: undefined, PORT: undefined });
  if (!server.ok) throw new SettingsError(server.message);
  return Object.fromEntries(RELAY_VARIABLES.filter((name) => withHost[name]?.trim()).map((name) => [name, withHost[name]!.trim()]));
}

const RELAY_VARIABLES = [
  'UPSTREAM_URL',
  'RELAY_PATH_PARAM',
  'RELAY_ALLOW_INSECURE_UPSTREAM',
  'RELAY_MAX_BODY_BYTES',
  'RELAY_MAX_RESPONSE_BYTES',
  'RELAY_TIMEOUT_MS',
  'RELAY_BODY_TIMEOUT_MS',
  'RELAY_PUBLIC_HOST',
  'RELAY_BASE_PATH',
  'RELAY_LOG',
  'RELAY_ALLOW_PATHS',
  'RELAY_ALLOW_APPIDS',
  'RELAY_ALLOW_DEVTOOLS',
  'RELAY_SHUTDOWN_GRACE_MS',
  'RELAY_MAX_SOCKETS',
  'RELAY_MAX_BODY_BYTES_INFLIGHT',
  'RELAY_SIGNING_SECRET',
  'RELAY_MAX_INFLIGHT',
];

/** Printed plans never show these values. */
export const SECRET_VARIABLES = ['RELAY_SIGNING_SECRET'];

export function positiveInt(env: Env, name: string, fallback: number): number {
  const value = env[name]?.trim();
  if (!value) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new SettingsError(`${name} must be a positive whole number (got ${JSON.stringify(value)})`);
  return Number(value);
}

export const FUNCTIONS = [
  { name: 'get', method: 'GET' },
  { name: 'post', method: 'POST' },
  { name: 'put', method: 'PUT' },
  { name: 'getDownImg', method: 'GET' },
  { name: 'delete', method: 'DELETE' },
] as const;

/** `--mode <name>` (or `--mode=<name>`), one of `modes`, the first by default; `aliases` map old flags. */
export function deployMode<M extends string>(argv: readonly string[], modes: readonly M[], aliases: Record<string, M> = {}): M {
  const at = argv.findIndex((arg) => arg === '--mode' || arg.startsWith('--mode='));
  const given = at === -1 ? Object.keys(aliases).find((flag) => argv.includes(flag)) : argv[at]!.startsWith('--mode=') ? argv[at]!.slice(7) : argv[at + 1];
  if (given === undefined) return modes[0]!;
  const mode = at === -1 ? aliases[given]! : (given as M);
  if (!modes.includes(mode)) throw new SettingsError(`--mode must be ${modes.join(' or ')} (got ${JSON.stringify(given)})`);
  return mode;
}

/** Calls one instance serves at once in server mode (MP_RELAY_CONCURRENCY), within the platform's range. */
export function concurrency(env: Env, max: number): number {
  const value = positiveInt(env, 'MP_RELAY_CONCURRENCY', 50);
  if (value > max) throw new SettingsError(`MP_RELAY_CONCURRENCY must be at most ${max} (got ${value})`);
  return value;
}
