// A closed-loop HTTP load generator (used when wrk is not installed): <concurrency> keep-alive
// connections, each sending its next request as soon as the last answer ends, for <seconds>.
//   node load.mjs <url> <GET|POST> <body or -> <concurrency> <seconds>
// Prints {"requests":n,"rps":x,"p50":ms,"p99":ms,"errors":n}.
import http from 'node:http';

const [url, method, body, concurrency, seconds] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
const payload = body === '-' ? undefined : Buffer.from(body);
const headers = payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {};
const latencies = [];
let errors = 0;
const deadline = performance.now() + Number(seconds) * 1000;

const once = () =>
  new Promise((resolve) => {
    const started = performance.now();
    const req = http.request(url, { method, agent, headers }, (res) => {
      res.on('data', () => {});
      res.on('end', () => {
        if (res.statusCode === 200) latencies.push(performance.now() - started);
        else errors++;
        resolve();
      });
    });
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end(payload);
  });

const started = performance.now();
await Promise.all(
  Array.from({ length: Number(concurrency) }, async () => {
    while (performance.now() < deadline) await once();
  }),
);
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
console.log(JSON.stringify({ requests: latencies.length, rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors }));
agent.destroy();
