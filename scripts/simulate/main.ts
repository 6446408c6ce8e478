import { readFileSync, writeFileSync } from 'node:fs';
import { ALIYUN_FC, quantile, simulate, TENCENT_SCF, type Mode, type Platform } from './model';
import { bursty, CROSS_BORDER, diurnal, steady, type Latency, type Trace } from './traces';

// `npm run simulate [-- --quick] [-- --write] [-- --cold-ms N] [-- --latency-ms N]`: replays traffic
// traces against the two deployment modes on each platform and prints, per mode, cold starts per
// 10,000 calls, the latency they add (p50/p99), billed GB-seconds and the monthly bill. --write puts
// the tables and the chart into docs/cost.md and docs/cost.svg. Deterministic: same flags, same numbers.

interface Deployment {
  platform: Platform;
  mode: Mode;
}

// Sizes as the templates deploy them: s.yaml / deploy:tencent (256 MB event functions; FC 3.0 with
// 0.25 vCPU) and s.server.yaml / deploy:tencent --mode web (512 MB, 0.5 vCPU on FC, 50 calls per instance).
const EVENT: Omit<Mode, 'vcpu'> = { name: 'event functions', pools: 5, perInstance: 1, memoryGb: 0.25 };
const SERVER: Omit<Mode, 'vcpu'> = { name: 'server mode', pools: 1, perInstance: 50, memoryGb: 0.5 };
export const DEPLOYMENTS: Deployment[] = [
  { platform: ALIYUN_FC, mode: { ...EVENT, vcpu: 0.25 } },
  { platform: ALIYUN_FC, mode: { ...SERVER, vcpu: 0.5 } },
  { platform: TENCENT_SCF, mode: { ...EVENT, vcpu: 0 } },
  { platform: TENCENT_SCF, mode: { ...SERVER, name: 'web function', vcpu: 0 } },
];

/**
 * Cold start cost, ms, the same for both modes. Neither vendor publishes a figure (we looked); this is
 * an assumption for a small Node.js function, changed with --cold-ms. The relay's own share, loading
 * the bundle, is a few ms (`npm run bench:cold`).
 */
export const DEFAULT_COLD_MS = 300;

export interface Row {
  trace: string;
  meanRate: number;
  deployment: string;
  coldPer10k: number;
  p50: number;
  p99: number;
  gbSecondsPerMonth: number;
  cnyPerMonth: number;
}

export function run(traces: Trace[], coldMs: number): Row[] {
  const rows: Row[] = [];
  for (const trace of traces) {
    for (const { platform, mode } of DEPLOYMENTS) {
      const result = simulate(trace.calls, mode, platform.keepIdleMs, coldMs);
      const month = (value: number) => value * trace.perMonth;
      const usage = { calls: month(result.usage.calls), busySeconds: month(result.usage.busySeconds), gbSeconds: month(result.usage.gbSeconds), vcpuSeconds: month(result.usage.vcpuSeconds) };
      rows.push({
        trace: trace.name,
        meanRate: trace.meanRate,
        deployment: `${platform.name}, ${mode.name}`,
        coldPer10k: result.calls === 0 ? 0 : (result.coldCalls / result.calls) * 10_000,
        p50: quantile(result.addedMs, 0.5),
        p99: quantile(result.addedMs, 0.99),
        gbSecondsPerMonth: usage.gbSeconds,
        cnyPerMonth: platform.price(usage) + platform.monthlyFee,
      });
    }
  }
  return rows;
}

export const STEADY_RATES = [0.01, 0.1, 1, 10, 100, 1000];

export function traces(quick: boolean, latency: Latency): Trace[] {
  const target = quick ? 1500 : 20_000;
  const rates = quick ? [0.01, 1, 100] : STEADY_RATES;
  return [...rates.map((rate) => steady(rate, target, latency)), ...(quick ? [] : [diurnal(10, latency), bursty(1, latency)])];
}

const round = (value: number, digits = 0) => (value === 0 ? '0' : value >= 100 || digits === 0 ? Math.round(value).toLocaleString('en-US') : value.toFixed(digits));

export function table(rows: Row[]): string {
  const lines = ['| 流量 / traffic | 部署 / deployment | 遇到冷启动的调用 / 10⁴ 次 · calls meeting a cold start per 10⁴ | 增加延迟 p50 / p99 (ms) · added latency | GB·s / 月 · per month | 元 / 月 · CNY per month |', '|---|---|---:|---:|---:|---:|'];
  for (const row of rows) lines.push(`| ${row.trace} | ${row.deployment} | ${round(row.coldPer10k, 1)} | ${round(row.p50)} / ${round(row.p99)} | ${round(row.gbSecondsPerMonth, 1)} | ${round(row.cnyPerMonth, 2)} |`);
  return lines.join('\n');
}

/** README's short form: steady traffic only, event functions against server mode on each platform. */
export function summary(rows: Row[]): string {
  const lines = ['| 调用/秒 · calls/s | FC 事件函数 · event | FC 服务器模式 · server | SCF 事件函数 · event | SCF Web 函数 · web |', '|---:|---:|---:|---:|---:|'];
  const steadyRows = rows.filter((row) => row.trace.startsWith('steady'));
  for (const rate of [...new Set(steadyRows.map((row) => row.meanRate))]) {
    const cells = DEPLOYMENTS.map(({ platform, mode }) => steadyRows.find((row) => row.meanRate === rate && row.deployment === `${platform.name}, ${mode.name}`)!);
    lines.push(`| ${rate} | ${cells.map((row) => `${round(row.cnyPerMonth, 2)} 元 · ${round(row.coldPer10k, 1)} 冷/10⁴`).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Monthly bill against steady traffic, log-log, one line per deployment. */
export function chart(rows: Row[]): string {
  const W = 720;
  const H = 400;
  const left = 70;
  const bottom = 50;
  const steadyRows = rows.filter((row) => row.trace.startsWith('steady'));
  const rates = [...new Set(steadyRows.map((row) => row.meanRate))];
  const costs = steadyRows.map((row) => Math.max(row.cnyPerMonth, 0.01));
  const [lowX, highX] = [Math.log10(Math.min(...rates)), Math.log10(Math.max(...rates))];
  const [lowY, highY] = [Math.floor(Math.log10(Math.min(...costs))), Math.ceil(Math.log10(Math.max(...costs)))];
  const x = (rate: number) => left + ((Math.log10(rate) - lowX) / (highX - lowX || 1)) * (W - left - 20);
  const y = (cost: number) => H - bottom - ((Math.log10(Math.max(cost, 0.01)) - lowY) / (highY - lowY || 1)) * (H - bottom - 20);
  const colours = ['#d9480f', '#f08c00', '#1971c2', '#4dabf7'];
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`, `<rect width="${W}" height="${H}" fill="#fff"/>`];
  for (let power = lowY; power <= highY; power++) parts.push(`<line x1="${left}" x2="${W - 20}" y1="${y(10 ** power)}" y2="${y(10 ** power)}" stroke="#eee"/><text x="${left - 6}" y="${y(10 ** power) + 4}" text-anchor="end">${10 ** power >= 1 ? (10 ** power).toLocaleString('en-US') : 10 ** power}</text>`);
  for (const rate of rates) parts.push(`<text x="${x(rate)}" y="${H - bottom + 16}" text-anchor="middle">${rate}</text>`);
  parts.push(`<text x="${(W + left) / 2}" y="${H - 12}" text-anchor="middle">调用 / 秒 · calls per second (steady)</text>`, `<text x="14" y="${H / 2}" transform="rotate(-90 14 ${H / 2})" text-anchor="middle">元 / 月 · CNY per month</text>`);
  DEPLOYMENTS.forEach(({ platform, mode }, i) => {
    const name = `${platform.name}, ${mode.name}`;
    const points = steadyRows.filter((row) => row.deployment === name).map((row) => `${x(row.meanRate).toFixed(1)},${y(row.cnyPerMonth).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${colours[i]}" stroke-width="2" ${mode.pools === 1 ? '' : 'stroke-dasharray="6 4" '}points="${points.join(' ')}"/>`);
    parts.push(`<text x="${left + 10}" y="${24 + i * 16}" fill="${colours[i]}">${mode.pools === 1 ? '———' : '- - -'} ${name}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function flag(argv: string[], name: string): number | undefined {
  const at = argv.indexOf(name);
  if (at === -1) return undefined;
  const value = Number(argv[at + 1]);
  if (!(value > 0)) throw new Error(`${name} needs a positive number`);
  return value;
}

function main(argv: string[]): void {
  const quick = argv.includes('--quick');
  const coldMs = flag(argv, '--cold-ms') ?? DEFAULT_COLD_MS;
  const latency = { ...CROSS_BORDER, medianMs: flag(argv, '--latency-ms') ?? CROSS_BORDER.medianMs };
  const started = Date.now();
  const rows = run(traces(quick, latency), coldMs);
  const output = [
    `mp-relay simulate${quick ? ' --quick (1,500 calls a trace, three rates: the docs use the full run, 20,000 calls a trace)' : ''}: cold start ${coldMs} ms, backend latency log-normal median ${latency.medianMs} ms (sigma ${latency.sigma}), idle instances kept 4 min, prices read 2026-12-01`,
    '',
    table(rows),
    '',
    `(${((Date.now() - started) / 1000).toFixed(1)} s; model and sources: scripts/simulate/model.ts)`,
  ].join('\n');
  process.stdout.write(`${output}\n`);
  if (argv.includes('--write')) {
    const doc = readFileSync('docs/cost.md', 'utf8');
    const marked = /<!-- simulate:table -->[\s\S]*?<!-- \/simulate:table -->/;
    if (!marked.test(doc)) throw new Error('docs/cost.md has no <!-- simulate:table --> section');
    const command = `npm run simulate -- --write${coldMs === DEFAULT_COLD_MS ? '' : ` --cold-ms ${coldMs}`}`;
    writeFileSync('docs/cost.md', doc.replace(marked, `<!-- simulate:table -->\n\`${command}\`, cold start ${coldMs} ms, latency median ${latency.medianMs} ms:\n\n${table(rows)}\n<!-- /simulate:table -->`));
    writeFileSync('docs/cost.svg', `${chart(rows)}\n`);
    const readme = readFileSync('README.md', 'utf8');
    const short = /<!-- simulate:summary -->[\s\S]*?<!-- \/simulate:summary -->/;
    if (!short.test(readme)) throw new Error('README.md has no <!-- simulate:summary --> section');
    writeFileSync('README.md', readme.replace(short, `<!-- simulate:summary -->\n${summary(rows)}\n<!-- /simulate:summary -->`));
    process.stdout.write('wrote docs/cost.md (table), docs/cost.svg and the README summary\n');
  }
}

if (process.argv[1] && /simulate(\.mjs)?$/.test(process.argv[1])) main(process.argv.slice(2));
