// CPU per invocation of an event-style handler (an FC 3.0 event in, the result object out) against
// a loopback upstream, next to the same request made directly with a keep-alive agent.
//   UPSTREAM_URL=http://127.0.0.1:port node invoke.mjs <bundle> <invocations>
// Prints {"handlerCpuMs":x,"directCpuMs":y}: CPU milliseconds of this process per call.
import { createRequire } from 'node:module';
import http from 'node:http';

const [bundle, count] = process.argv.slice(2);
const n = Number(count);
const { handler } = createRequire(import.meta.url)(bundle);
const event = Buffer.from(
  JSON.stringify({
    version: 'v1', rawPath: '/get', headers: { 'User-Agent': 'bench' }, queryParameters: { method: 'api/small' }, body: '', isBase64Encoded: false,
    requestContext: { http: { method: 'GET', path: '/get', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' }, requestId: 'bench' },
  }),
);
const agent = new http.Agent({ keepAlive: true });
const direct = () =>
  new Promise((resolve, reject) => {
    http.get(`${process.env.UPSTREAM_URL}/api/small`, { agent }, (res) => res.on('data', () => {}).on('end', resolve)).on('error', reject);
  });

async function cpuPerCall(call) {
  for (let i = 0; i < Math.min(200, n); i++) await call(); // warm-up: JIT, connections
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) await call();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / n;
}

const handlerCpuMs = await cpuPerCall(async () => {
  const result = await handler(event, {});
  if (result.statusCode !== 200) throw new Error(`handler answered ${result.statusCode}`);
});
const directCpuMs = await cpuPerCall(direct);
console.log(JSON.stringify({ handlerCpuMs, directCpuMs }));
process.exit(0);
