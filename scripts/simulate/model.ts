// The scaling and billing rules `npm run simulate` applies, in one place, each with its source. A call
// arrives for one endpoint; the platform gives it a warm instance with a free slot or starts a new one
// (a cold start); an instance idle for longer than the keep time is reclaimed; the bill counts each
// instance's busy time once however many calls overlap in it. Read 2026-12-01.

/** One call of a trace: when it arrives, which endpoint (0..4), how long the backend takes. */
export interface Call {
  at: number;
  endpoint: number;
  upstreamMs: number;
}

/** A way to deploy: how calls are spread over instances, and how big an instance is. */
export interface Mode {
  name: string;
  /**
   * Instance pools: 5 in event mode (each function scales on its own), 1 in server mode.
   * Event functions on built-in runtimes serve one call per instance: FC 3.0 built-in runtimes have no
   * instance concurrency (https://www.alibabacloud.com/help/en/functioncompute/feature-updates-in-function-compute-3),
   * and SCF event functions run one request per instance unless configured otherwise.
   */
  pools: 1 | 5;
  /** Calls one instance serves at once: 1 for event functions, instanceConcurrency / MaxConcurrency in server mode. */
  perInstance: number;
  memoryGb: number;
  /** FC bills vCPU too; SCF bills memory only. */
  vcpu: number;
}

export interface Platform {
  name: string;
  /**
   * An idle on-demand instance is reclaimed after this. Both vendors say "usually 3 to 5 minutes"; the
   * model takes the middle. FC: https://www.alibabacloud.com/help/en/fc/support/why-infrequently-used-functions-take-a-longer-period-of-time-to-invoke
   * SCF: https://www.tencentcloud.com/document/product/583/69578
   */
  keepIdleMs: number;
  /** The price of one instance's busy time and of each call, in CNY. */
  price(usage: Usage): number;
  /** Monthly fixed fee, CNY. */
  monthlyFee: number;
}

export interface Usage {
  calls: number;
  /** Instance busy time, summed over instances, overlapping calls counted once. */
  busySeconds: number;
  gbSeconds: number;
  vcpuSeconds: number;
}

/**
 * Aliyun FC 3.0, pay-as-you-go, billed in CU since 2024-08-27: 1 CU per active vCPU-second, 0.15 CU per
 * GB-second, 75 CU per 10,000 calls, 0 for idle vCPU; tier 1 (up to 200 million CU a month) at
 * 0.00011 CNY per CU (the 0.000088 discount ran until 2026-08-27). Busy time is the instance's, counted
 * once for overlapping calls (help doc 144586: "以实例的实际占用时间作为计费的执行时长").
 * https://help.aliyun.com/zh/functioncompute/fc-3-0/product-overview/billing-overview-of-fc
 * https://www.alibabacloud.com/help/tc/functioncompute/fc-3-0/product-overview/pay-as-you-go-billing-method-1
 */
export const ALIYUN_FC: Platform = {
  name: 'Aliyun FC 3.0',
  keepIdleMs: 4 * 60_000,
  price: (usage) => (usage.vcpuSeconds * 1 + usage.gbSeconds * 0.15 + (usage.calls / 10_000) * 75) * 0.00011,
  monthlyFee: 0,
};

/**
 * Tencent SCF: memory x run time in GB-seconds, to the millisecond, overlapping calls of one instance
 * counted once (https://cloud.tencent.com/document/product/583/123892, "交叠的这段时间只会计算一次";
 * https://www.tencentcloud.com/zh/document/product/583/12284 for the formula). The unit prices
 * (0.00011108 CNY per GB-second, 0.0133 CNY per 10,000 calls, a 12.8 CNY monthly base package) are
 * the widely quoted list prices; we could not read them on Tencent's own price page
 * (https://cloud.tencent.com/document/product/583/12281), so check them there before relying on them.
 */
export const TENCENT_SCF: Platform = {
  name: 'Tencent SCF',
  keepIdleMs: 4 * 60_000,
  price: (usage) => usage.gbSeconds * 0.00011108 + (usage.calls / 10_000) * 0.0133,
  monthlyFee: 12.8,
};

export interface Result {
  calls: number;
  /** Instances started. */
  coldStarts: number;
  /** Calls that waited for an instance to start: in server mode several may wait on one start. */
  coldCalls: number;
  /** Added latency per call (waiting for a cold start), ms, in arrival order. */
  addedMs: Float64Array;
  usage: Usage;
}

interface Instance {
  readyAt: number;
  /** End times of its calls in flight. */
  ends: number[];
  lastEnd: number;
  busyStart: number;
  busyEnd: number;
}

/**
 * Replays `calls` (sorted by `at`) against `mode` on a platform whose idle instances live `keepIdleMs`
 * and whose new instances take `coldStartMs` before they serve. A call goes to a started instance with
 * a free slot, the busiest first (packing, so idle ones can be reclaimed); else to one still starting;
 * else to a new instance. Neither vendor documents how it picks; this is the assumption.
 * The cold start is billed as busy time (an assumption too: the instance exists, starting for that call).
 */
export function simulate(calls: readonly Call[], mode: Mode, keepIdleMs: number, coldStartMs: number): Result {
  const pools: Instance[][] = Array.from({ length: mode.pools }, () => []);
  const addedMs = new Float64Array(calls.length);
  let coldStarts = 0;
  let coldCalls = 0;
  let busyMs = 0;
  /** Started instances rank above starting ones, then by calls in flight. */
  const rank = (instance: Instance, at: number) => (instance.readyAt <= at ? 1_000_000 : 0) + instance.ends.length;
  calls.forEach((call, index) => {
    const pool = pools[mode.pools === 1 ? 0 : call.endpoint % mode.pools]!;
    let chosen: Instance | undefined;
    for (let i = pool.length - 1; i >= 0; i--) {
      const instance = pool[i]!;
      if (instance.ends.length > 0) instance.ends = instance.ends.filter((end) => end > call.at);
      if (instance.ends.length === 0 && instance.lastEnd + keepIdleMs < call.at) {
        // Reclaimed while idle: its last busy period is over and billed.
        busyMs += instance.busyEnd - instance.busyStart;
        pool.splice(i, 1);
        continue;
      }
      if (instance.ends.length < mode.perInstance && (!chosen || rank(instance, call.at) > rank(chosen, call.at))) chosen = instance;
    }
    if (!chosen) {
      coldStarts++;
      chosen = { readyAt: call.at + coldStartMs, ends: [], lastEnd: call.at, busyStart: call.at, busyEnd: call.at };
      pool.push(chosen);
    }
    const start = Math.max(call.at, chosen.readyAt);
    if (start > call.at) coldCalls++;
    const end = start + call.upstreamMs;
    addedMs[index] = start - call.at;
    if (call.at > chosen.busyEnd) {
      // A new busy period: the last one is billed.
      busyMs += chosen.busyEnd - chosen.busyStart;
      chosen.busyStart = call.at;
    }
    chosen.busyEnd = Math.max(chosen.busyEnd, end);
    chosen.ends.push(end);
    chosen.lastEnd = Math.max(chosen.lastEnd, end);
  });
  for (const pool of pools) for (const instance of pool) busyMs += instance.busyEnd - instance.busyStart;
  const busySeconds = busyMs / 1000;
  return {
    calls: calls.length,
    coldStarts,
    coldCalls,
    addedMs,
    usage: { calls: calls.length, busySeconds, gbSeconds: busySeconds * mode.memoryGb, vcpuSeconds: busySeconds * mode.vcpu },
  };
}

/** The q-th quantile (0..1) of `values`, nearest rank. */
export function quantile(values: Float64Array, q: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
