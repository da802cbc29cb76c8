import { performance } from "node:perf_hooks";

/** Timing samples in milliseconds, with the two figures the report shows. */
export interface Summary {
  median: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
  n: number;
}

/** Nearest-rank percentile of already sorted samples. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n === 0 ? Number.NaN : n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return {
    median,
    p99: percentile(sorted, 99),
    mean: n === 0 ? Number.NaN : sorted.reduce((s, x) => s + x, 0) / n,
    min: sorted[0] ?? Number.NaN,
    max: sorted[n - 1] ?? Number.NaN,
    n,
  };
}

export function now(): number {
  return performance.now();
}

/** Runs `op` `warmup` times unmeasured, then `runs` times measured; `i` counts every call from 0. */
export async function measure(warmup: number, runs: number, op: (i: number) => Promise<unknown>): Promise<Summary> {
  let i = 0;
  for (let w = 0; w < warmup; w++) await op(i++);
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = now();
    await op(i++);
    samples.push(now() - start);
  }
  return summarize(samples);
}

/** Measures several operations round-robin, so a noisy stretch of the machine hits them all alike. */
export async function measureInterleaved<K extends string>(warmup: number, runs: number, ops: Record<K, (i: number) => Promise<unknown>>): Promise<Record<K, Summary>> {
  const keys = Object.keys(ops) as K[];
  const samples = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < warmup + runs; i++) {
    for (const k of keys) {
      const start = now();
      await ops[k](i);
      if (i >= warmup) samples[k].push(now() - start);
    }
  }
  return Object.fromEntries(keys.map((k) => [k, summarize(samples[k])])) as Record<K, Summary>;
}
