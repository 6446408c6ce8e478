import { ALIYUN_FC_HEADERS, TENCENT_SCF_HEADERS } from '../shared/platform-headers';
import { DEFAULT_BODY_BYTES_IN_FLIGHT, type RelayServerOptions } from './server';

// Server mode's own settings, read from the environment each platform gives a server, for the web
// bundle (dist/web). The bootstraps name the platform (RELAY_PLATFORM), so nothing is guessed.

export type ServerPlatform = 'aliyun-fc' | 'tencent-scf' | 'none';

export interface ServerSettings {
  platform: ServerPlatform;
  host: string;
  port: number;
  /** RELAY_SHUTDOWN_GRACE_MS: how long calls in flight may take to finish once the server is told to stop. */
  graceMs: number;
  /** RELAY_MAX_SOCKETS: connections to the upstream this process may hold at once (per scheme). */
  maxSockets: number;
  server: RelayServerOptions;
}

export const DEFAULT_GRACE_MS = 10_000;
export const DEFAULT_MAX_SOCKETS = 256;

type Env = Record<string, string | undefined>;

export function readServerSettings(env: Env): { ok: true; settings: ServerSettings } | { ok: false; message: string } {
  try {
    const platform = readPlatform(env.RELAY_PLATFORM);
    return {
      ok: true,
      settings: {
        platform,
        // Both platforms route to the instance's own address, not to loopback.
        // FC: "must listen on 0.0.0.0:CAPort" (help doc 209242); SCF: "不可以使用内部回环地址 127.0.0.1" (583/56126).
        host: env.HOST?.trim() || (platform === 'none' ? '127.0.0.1' : '0.0.0.0'),
        port: readPort(env, platform),
        graceMs: readNumber(env, 'RELAY_SHUTDOWN_GRACE_MS', DEFAULT_GRACE_MS, 0),
        maxSockets: readNumber(env, 'RELAY_MAX_SOCKETS', DEFAULT_MAX_SOCKETS, 1),
        server: { ...serverOptions(platform), maxBodyBytesInFlight: readNumber(env, 'RELAY_MAX_BODY_BYTES_INFLIGHT', DEFAULT_BODY_BYTES_IN_FLIGHT, 1) },
      },
    };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

function readPlatform(value: string | undefined): ServerPlatform {
  const given = value?.trim() || 'none';
  if (given === 'aliyun-fc' || given === 'tencent-scf' || given === 'none') return given;
  throw new Error(`RELAY_PLATFORM must be aliyun-fc, tencent-scf or none (got ${JSON.stringify(given)})`);
}

/**
 * PORT wins (local runs, tests). Otherwise FC gives the custom runtime's port in FC_CUSTOM_LISTEN_PORT
 * (its list of system variables; FC's samples read FC_SERVER_PORT), 9000 when unset; SCF web functions
 * always get 9000.
 * https://www.alibabacloud.com/help/en/functioncompute/fc/environment-variables
 * https://cloud.tencent.com/document/product/583/56126
 */
function readPort(env: Env, platform: ServerPlatform): number {
  const name = env.PORT?.trim() ? 'PORT' : platform === 'aliyun-fc' ? (env.FC_CUSTOM_LISTEN_PORT?.trim() ? 'FC_CUSTOM_LISTEN_PORT' : 'FC_SERVER_PORT') : 'PORT';
  const port = readNumber(env, name, 9000, 0);
  if (port > 65535) throw new Error(`${name} must be a port number from 0 to 65535 (got ${port})`);
  return port;
}

function readNumber(env: Env, name: string, fallback: number, min: number): number {
  const value = env[name]?.trim();
  if (!value) return fallback;
  if (!/^\d{1,9}$/.test(value) || Number(value) < min) throw new Error(`${name} must be a whole number of at least ${min} (got ${JSON.stringify(value)})`);
  return Number(value);
}

function serverOptions(platform: ServerPlatform): RelayServerOptions {
  switch (platform) {
    case 'aliyun-fc':
      // FC refuses client headers starting with x-fc-, so one that arrives is FC's own.
      return { protocol: 'https', platformHeaders: ALIYUN_FC_HEADERS, clientIpHeader: 'x-fc-client-ip' };
    case 'tencent-scf':
      // SCF sets X-Scf-* itself and refuses them from clients (583/56124), so this one names the caller.
      return { protocol: 'https', platformHeaders: TENCENT_SCF_HEADERS, clientIpHeader: 'x-scf-remote-addr' };
    default:
      // Behind nothing we know: the socket's peer is the caller, and no header is trusted for it.
      return { protocol: 'http' };
  }
}
