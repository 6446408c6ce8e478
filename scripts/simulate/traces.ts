import { seeded } from '../seeded-random.mjs';
import type { Call } from './model';

// The traffic `npm run simulate` replays: seeded, so every run gives the same numbers.

/** How the mini program's calls spread over the five endpoints (get, post, put, getDownImg, delete). */
export const ENDPOINT_MIX = [0.6, 0.2, 0.05, 0.1, 0.05];

/**
 * Cross-border latency of one backend call: log-normal, median 200 ms, sigma 0.5 (p99 about 640 ms).
 * An assumption, not a measurement: a China-to-US-West round trip is 150 to 200 ms before the backend's
 * own time; change it with --latency-ms.
 */
export interface Latency {
  medianMs: number;
  sigma: number;
}

export const CROSS_BORDER: Latency = { medianMs: 200, sigma: 0.5 };

/**
 * Poisson arrivals whose rate (calls per second) may change over time: `rateAt(ms)`, bounded by
 * `maxRate`, thinned (Lewis and Shedler), for `seconds` of traffic.
 */
export function arrivals(rateAt: (ms: number) => number, maxRate: number, seconds: number, latency: Latency, seed: number): Call[] {
  const next = seeded(seed);
  const calls: Call[] = [];
  const end = seconds * 1000;
  let at = 0;
  for (;;) {
    at += (-Math.log(1 - next()) / maxRate) * 1000;
    if (at >= end) return calls;
    if (next() * maxRate > rateAt(at)) continue;
    let pick = next();
    let endpoint = 0;
    while (endpoint < ENDPOINT_MIX.length - 1 && pick >= ENDPOINT_MIX[endpoint]!) pick -= ENDPOINT_MIX[endpoint++]!;
    // Box-Muller for the log-normal's normal part.
    const normal = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    calls.push({ at, endpoint, upstreamMs: latency.medianMs * Math.exp(latency.sigma * normal) });
  }
}

export interface Trace {
  name: string;
  /** Calls per second on average over the month. */
  meanRate: number;
  calls: Call[];
  /** How many of these traces make a 30-day month. */
  perMonth: number;
}

const MONTH_SECONDS = 30 * 24 * 3600;

/** Steady traffic: long enough for `targetCalls` calls and at least an hour, at most a month. */
export function steady(rate: number, targetCalls: number, latency: Latency, seed = 1): Trace {
  const seconds = Math.min(MONTH_SECONDS, Math.max(3600, targetCalls / rate));
  return { name: `steady ${rate}/s`, meanRate: rate, calls: arrivals(() => rate, rate, seconds, latency, seed), perMonth: MONTH_SECONDS / seconds };
}

/** A day whose rate follows the sun: from 10% of the mean at 4 am to 190% at 4 pm. */
export function diurnal(meanRate: number, latency: Latency, seed = 2): Trace {
  const day = 24 * 3600;
  const rateAt = (ms: number) => meanRate * (1 - 0.9 * Math.cos((2 * Math.PI * (ms / 1000 / 3600 - 4)) / 24));
  return { name: `diurnal, mean ${meanRate}/s`, meanRate, calls: arrivals(rateAt, meanRate * 1.9, day, latency, seed), perMonth: 30 };
}

/** A quiet hour with bursts: `baseRate`, and 10 s at 50 times that every 5 minutes (a push, a campaign). */
export function bursty(baseRate: number, latency: Latency, seed = 3): Trace {
  const rateAt = (ms: number) => (ms % 300_000 < 10_000 ? baseRate * 50 : baseRate);
  const meanRate = (baseRate * 290 + baseRate * 50 * 10) / 300;
  return { name: `bursty, ${baseRate}/s with 10 s bursts of ${baseRate * 50}/s every 5 min`, meanRate, calls: arrivals(rateAt, baseRate * 50, 3600, latency, seed), perMonth: 720 };
}
