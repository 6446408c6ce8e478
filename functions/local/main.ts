import { loadConfig } from '../core/config';
import { ENDPOINTS } from '../core/endpoints';
import { bufferedSink } from '../core/log';
import { createRelay } from '../core/relay';
import { serverBodies } from '../core/stream';
import { installSafetyNet } from '../adapters/node-http/safety-net';
import { drainable, stopOnSignals } from '../adapters/node-http/lifecycle';
import { createRelayServer } from '../adapters/node-http/server';
import { readServerSettings } from '../adapters/node-http/server-settings';
import { createAgents } from '../core/forward';
import { startDemoBackend, type DemoBackend } from './demo-backend';

// `npm start`: all five functions on one local server. Without UPSTREAM_URL a demo backend is started
// and used, so the relay can be tried straight after cloning.

async function main(): Promise<void> {
  installSafetyNet();
  const env = { ...process.env };
  const host = env.HOST?.trim() || '127.0.0.1';
  const port = readPort(env.PORT);

  let demo: DemoBackend | undefined;
  if (!env.UPSTREAM_URL?.trim()) {
    demo = await startDemoBackend();
    env.UPSTREAM_URL = demo.url;
  }
  const config = loadConfig(env);
  if (!config.ok) fail(config.message);
  // The server settings server mode reads (RELAY_MAX_SOCKETS, RELAY_MAX_BODY_BYTES_INFLIGHT, RELAY_SHUTDOWN_GRACE_MS)
  // apply here too; host and port stay npm start's own.
  const read = readServerSettings({ ...env, RELAY_PLATFORM: 'none', PORT: undefined });
  if (!read.ok) fail(read.message);
  const { settings } = read;

  // One write per event-loop turn for all request lines: a server answers many requests per turn.
  const log = bufferedSink();
  const agents = createAgents(undefined, settings.maxSockets);
  const relays = Object.values(ENDPOINTS).map((endpoint) => createRelay(endpoint, config, { log, streaming: serverBodies, agents }));
  const server = createRelayServer(relays, { maxBodyBytesInFlight: settings.server.maxBodyBytesInFlight });
  server.on('error', (error) => fail(`cannot listen on ${host}:${port}: ${error.message}`));
  server.listen(port, host, () => {
    const address = server.address();
    const actualPort = typeof address === 'object' && address ? address.port : port;
    const base = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
    printBanner(base, config.config.basePath, config.config.upstream.origin + config.config.upstream.basePath, demo !== undefined);
  });

  // Ctrl-C or SIGTERM: calls in flight get RELAY_SHUTDOWN_GRACE_MS to finish, then the demo backend stops too.
  stopOnSignals(server, drainable(server), settings.graceMs, () => demo?.close());
}

function readPort(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 9000;
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port > 65535) fail(`PORT: must be a port number from 0 to 65535 (got ${JSON.stringify(value)})`);
  return port;
}

function fail(message: string): never {
  process.stderr.write(`mp-relay: ${message}\n`);
  process.exit(1);
}

function printBanner(origin: string, basePath: string, upstream: string, isDemo: boolean): void {
  // With RELAY_BASE_PATH the functions live below it, and so do the examples.
  const base = `${origin}${basePath}`;
  const lines = [
    `mp-relay listening on ${origin}${basePath ? `  (RELAY_BASE_PATH: ${basePath})` : ''}`,
    `upstream: ${upstream}${isDemo ? '  (built-in demo backend; set UPSTREAM_URL to use yours / 未设置 UPSTREAM_URL，使用内置演示后端)' : ''}`,
    '',
    'Try / 试试:',
    `  curl -i '${base}/get?method=api/users&page=2'`,
    `  curl -i '${base}/get/api/users?page=2'`,
    `  curl -i -X POST '${base}/post' -H 'content-type: application/json' -d '{"method":"api/echo","name":"小程序"}'`,
    `  curl -i -X PUT '${base}/put?method=api/echo' -H 'content-type: application/json' -d '{"id":12345678901234567890}'`,
    `  curl -o logo.png '${base}/getDownImg?method=img/logo.png'`,
    `  curl -i -X DELETE '${base}/delete?method=api/echo'`,
    `  curl -i '${base}/get?method=../etc/passwd'    # refused by the relay: 400 BAD_PATH`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

void main();
