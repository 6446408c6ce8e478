// Tencent SCF web function: all five endpoints from one ordinary HTTP server on 0.0.0.0:9000, the
// port SCF routes to. Started by dist/scf-web/scf_bootstrap.
// https://cloud.tencent.com/document/product/583/56124 (web functions)
import { installSafetyNet } from './adapters/node-http/safety-net';
import { createRelayServer } from './adapters/node-http/server';
import { TENCENT_SCF_HEADERS } from './adapters/shared/platform-headers';
import { loadConfig } from './core/config';
import { ENDPOINTS } from './core/endpoints';
import { bufferedSink } from './core/log';
import { createRelay } from './core/relay';
import { serverBodies } from './core/stream';

// A bad configuration is answered as a CONFIG error on every request rather than by exiting: a
// crashing web function only shows the client an opaque platform error.
installSafetyNet();
const config = loadConfig(process.env);
// One write per event-loop turn for all request lines: a server answers many requests per turn.
const log = bufferedSink();
const relays = Object.values(ENDPOINTS).map((endpoint) => createRelay(endpoint, config, { log, streaming: serverBodies }));
const server = createRelayServer(relays, {
  protocol: 'https',
  platformHeaders: TENCENT_SCF_HEADERS,
  // SCF sets X-Scf-* itself and refuses them from clients (583/56124), so this one names the caller.
  clientIpHeader: 'x-scf-remote-addr',
});

// HOST and PORT exist for local runs and tests; on SCF they are unset.
const host = process.env.HOST?.trim() || '0.0.0.0';
const port = Number(process.env.PORT?.trim() || 9000);
server.listen(port, host, () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  process.stdout.write(`mp-relay web function listening on http://${host}:${actual}${config.ok ? '' : ` (configuration error: ${config.message})`}\n`);
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5_000).unref();
});
