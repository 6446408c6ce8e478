import { spawnSync } from 'node:child_process';
import { ALIYUN_FC, quantile, simulate, TENCENT_SCF, type Call, type Mode } from '../scripts/simulate/model';
import { arrivals, CROSS_BORDER, ENDPOINT_MIX } from '../scripts/simulate/traces';
import { built } from './helpers/processes';

// Issue 16, item 3: the cost model on traces whose answers can be worked out by hand, then the quick
// simulation as `npm run simulate -- --quick` prints it.

const EVENT: Mode = { name: 'event', pools: 5, perInstance: 1, memoryGb: 0.25, vcpu: 0.25 };
const SERVER: Mode = { name: 'server', pools: 1, perInstance: 2, memoryGb: 0.5, vcpu: 0.5 };
const KEEP = 240_000;
const COLD = 300;
const call = (at: number, upstreamMs: number, endpoint = 0): Call => ({ at, endpoint, upstreamMs });

test('a second call within the keep time finds the instance warm; after it, cold again', () => {
  // 0: cold (300 ms start + 100 ms call); 1 s later: warm; 300 s after that (> 240 s idle): cold.
  const result = simulate([call(0, 100), call(1000, 100), call(301_100, 100)], EVENT, KEEP, COLD);
  expect(result.coldStarts).toBe(2);
  expect([...result.addedMs]).toEqual([300, 0, 300]);
  // Busy: 0..400, 1000..1100, 301100..301500: 400 + 100 + 400 ms.
  expect(result.usage.busySeconds).toBeCloseTo(0.9, 9);
  expect(result.usage.gbSeconds).toBeCloseTo(0.9 * 0.25, 9);
});

test('one call per instance in event mode; up to perInstance in server mode, overlapping time billed once', () => {
  const three = [call(0, 1000), call(0, 1000), call(0, 1000)];
  const event = simulate(three, EVENT, KEEP, COLD);
  // Three instances, each 300 + 1000 ms.
  expect([event.coldStarts, event.usage.busySeconds]).toEqual([3, 3.9]);
  const server = simulate(three, SERVER, KEEP, COLD);
  // Two calls share the first instance (both wait for its start), the third starts a second one:
  // 1300 + 1300 ms, not 3 x 1300. Two starts, three calls that met one.
  expect([server.coldStarts, server.coldCalls, server.usage.busySeconds, [...server.addedMs]]).toEqual([2, 3, 2.6, [300, 300, 300]]);
});

test('a started instance with a free slot is preferred to one still starting', () => {
  // perInstance 2, 1 s starts. 0: A starts (ready at 1000). 2000: A. 2050: A is full, B starts (ready
  // at 3050). 2200: A has a free slot again and is warm, so this call waits for nothing.
  const result = simulate([call(0, 5000), call(2000, 100), call(2050, 5000), call(2200, 100)], SERVER, KEEP, 1000);
  expect([...result.addedMs]).toEqual([1000, 0, 1000, 0]);
  expect([result.coldStarts, result.coldCalls]).toEqual([2, 2]);
});

test('overlap is counted once: calls at 0 and 500 ms of 1 s each keep one instance busy 1.5 s, not 2 s', () => {
  const result = simulate([call(0, 1000), call(500, 1000)], { ...SERVER, perInstance: 10 }, KEEP, 0);
  expect([result.coldStarts, result.usage.busySeconds]).toEqual([1, 1.5]);
});

test('each event function scales on its own: five endpoints, five cold starts; one server, one', () => {
  const fiveEndpoints = [0, 1, 2, 3, 4].map((endpoint) => call(endpoint * 10, 100, endpoint));
  expect(simulate(fiveEndpoints, EVENT, KEEP, COLD).coldStarts).toBe(5);
  expect(simulate(fiveEndpoints, { ...SERVER, perInstance: 50 }, KEEP, COLD).coldStarts).toBe(1);
});

test('prices: FC bills CU (1 per vCPU-s, 0.15 per GB-s, 75 per 10,000 calls) at 0.00011 CNY; SCF bills GB-s and calls', () => {
  const usage = { calls: 10_000, busySeconds: 0, gbSeconds: 2000, vcpuSeconds: 1000 };
  expect(ALIYUN_FC.price(usage)).toBeCloseTo((1000 + 300 + 75) * 0.00011, 12);
  expect(TENCENT_SCF.price(usage)).toBeCloseTo(2000 * 0.00011108 + 0.0133, 12);
});

test('quantile is nearest-rank; traces are seeded, follow the endpoint mix and the latency median', () => {
  expect(quantile(Float64Array.from([5, 1, 4, 2, 3]), 0.5)).toBe(3);
  expect(quantile(Float64Array.from([5, 1, 4, 2, 3]), 0.99)).toBe(5);
  const calls = arrivals(() => 50, 50, 400, CROSS_BORDER, 7);
  expect(arrivals(() => 50, 50, 400, CROSS_BORDER, 7)).toEqual(calls);
  expect(calls.length).toBeGreaterThan(19_000);
  expect(calls.length).toBeLessThan(21_000);
  const share = (endpoint: number) => calls.filter((c) => c.endpoint === endpoint).length / calls.length;
  ENDPOINT_MIX.forEach((expected, endpoint) => expect(Math.abs(share(endpoint) - expected)).toBeLessThan(0.02));
  const median = quantile(Float64Array.from(calls.map((c) => c.upstreamMs)), 0.5);
  expect(Math.abs(median - CROSS_BORDER.medianMs)).toBeLessThan(10);
});

test('npm run simulate -- --quick: every deployment at each rate; server mode never cold-starts more, and wins at high traffic', () => {
  const run = spawnSync(process.execPath, [built('tools', 'simulate.mjs'), '--quick'], { encoding: 'utf8' });
  expect(run.status).toBe(0);
  const rows = run.stdout.split('\n').filter((line) => /^\| steady/.test(line)).map((line) => line.split('|').map((cell) => cell.trim()));
  expect(rows).toHaveLength(3 * 4);
  const number = (cell: string) => Number(cell.replace(/,/g, ''));
  for (let i = 0; i < rows.length; i += 2) {
    const [event, server] = [rows[i]!, rows[i + 1]!];
    expect(event[2]).toMatch(/event functions/);
    expect(number(server[3]!)).toBeLessThanOrEqual(number(event[3]!));
  }
  const at100 = rows.filter((row) => row[1] === 'steady 100/s');
  expect(number(at100[1]![6]!)).toBeLessThan(number(at100[0]![6]!) / 2);
});

test("README's summary and docs/cost.md's table come from the same `npm run simulate -- --write` run", () => {
  const { readFileSync } = require('node:fs') as typeof import('node:fs');
  const root = `${__dirname}/..`;
  const doc = readFileSync(`${root}/docs/cost.md`, 'utf8');
  const summary = /<!-- simulate:summary -->([\s\S]*?)<!-- \/simulate:summary -->/.exec(readFileSync(`${root}/README.md`, 'utf8'))![1]!;
  const cells = [...summary.matchAll(/\| ([\d.]+) \| (.*) \|/g)];
  expect(cells).toHaveLength(6);
  for (const [, rate, rest] of cells) {
    const deployments = ['Aliyun FC 3.0, event functions', 'Aliyun FC 3.0, server mode', 'Tencent SCF, event functions', 'Tencent SCF, web function'];
    rest!.split(' | ').forEach((cell, i) => {
      const [, cost, cold] = /^(\S+) 元 · (\S+) 冷/.exec(cell)!;
      expect(doc).toContain(`| steady ${rate}/s | ${deployments[i]} | ${cold} | `);
      expect(doc).toMatch(new RegExp(`\\| steady ${rate!.replace('.', '\\.')}/s \\| ${deployments[i]} \\|.*\\| ${cost!.replace('.', '\\.')} \\|`));
    });
  }
});
