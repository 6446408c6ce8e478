// Server mode: one HTTP server serving all five endpoints (and the path style) on one instance, many
// calls at once. The same bundle runs as an Aliyun FC 3.0 custom runtime (dist/web/bootstrap) and as a
// Tencent SCF web function (dist/web/scf_bootstrap); each bootstrap names its platform in RELAY_PLATFORM.
// https://cloud.tencent.com/document/product/583/56126 (SCF web functions: scf_bootstrap, port 9000)
// https://www.alibabacloud.com/help/en/functioncompute/fc/lifecycle-hooks-for-function-instances-in-a-custom-runtime
import { drainable, stopOnSignals } from './adapters/node-http/lifecycle';
import { installSafetyNet } from './adapters/node-http/safety-net';
import { createRelayServer } from './adapters/node-http/server';
import { readServerSettings } from './adapters/node-http/server-settings';
import { loadConfig } from './core/config';
import { ENDPOINTS } from './core/endpoints';
import { createAgents } from './core/forward';
import { bufferedSink } from './core/log';
import { createRelay } from './core/relay';
import { serverBodies } from './core/stream';

installSafetyNet();
const read = readServerSettings(process.env);
if (!read.ok) {
  // Nothing can be served without a port; the platform shows this line in the function's log.
  process.stderr.write(`mp-relay: ${read.message}\n`);
  process.exit(1);
}
const { settings } = read;
// A bad relay configuration is answered as a CONFIG error on every request rather than by exiting: a
// crashing function only shows the client an opaque platform error.
const config = loadConfig(process.env);
// One write per event-loop turn for all request lines: a server answers many requests per turn.
const log = bufferedSink();
// One pool of upstream connections for all five endpoints, bounded by RELAY_MAX_SOCKETS.
const agents = createAgents(undefined, settings.maxSockets);
const relays = Object.values(ENDPOINTS).map((endpoint) => createRelay(endpoint, config, { log, streaming: serverBodies, agents }));
const server = createRelayServer(relays, {
  ...settings.server,
  // FC's PreStop: answered once the calls in flight are, within the grace period.
  onPreStop: settings.platform === 'aliyun-fc' ? (req) => drain.drain(settings.graceMs, req) : undefined,
});
const drain = drainable(server);
stopOnSignals(server, drain, settings.graceMs);

// A port already taken (or not ours to use) is fatal, and said so, as `npm start` does.
server.on('error', (error) => {
  process.stderr.write(`mp-relay: cannot listen on ${settings.host}:${settings.port}: ${error.message}\n`);
  process.exit(1);
});
server.listen(settings.port, settings.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  process.stdout.write(`mp-relay server mode (${settings.platform}) listening on http://${settings.host}:${port}${config.ok ? '' : ` (configuration error: ${config.message})`}\n`);
});
