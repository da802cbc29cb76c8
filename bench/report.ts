import os from "node:os";
import type { Summary } from "./stats.js";

/** One line of the table: a figure of the product beside its baseline, the ratio and the target. */
export interface Row {
  scenario: string;
  figure: string;
  unit: "ms" | "rollbacks/s" | "pages/s" | "MB";
  median: number;
  /** Null where a p99 means nothing (a rate, a peak). */
  p99: number | null;
  baseline: { name: string; median: number; p99: number | null };
  /** How the ratio is formed, e.g. "GraphQL / raw nodegit (median)". */
  ratioOf: string;
  ratio: number;
  /** e.g. "<= 3x". */
  target: string;
  met: boolean;
}

export interface Results {
  mode: "quick" | "full";
  startedAt: string;
  durationSeconds: number;
  machine: { cpu: string; cores: number; node: string; platform: string; totalMemoryMB: number; loadAverage: number[] };
  sizes: Record<string, unknown>;
  generationMs: Record<string, number>;
  rows: Row[];
  /** Every measured series, by name, in milliseconds unless the name says otherwise. */
  figures: Record<string, Summary | number | Record<string, unknown>>;
  profile?: Record<string, unknown>;
}

export function machine(): Results["machine"] {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    node: process.version,
    platform: `${process.platform} ${os.release()}`,
    totalMemoryMB: Math.round(os.totalmem() / 1024 / 1024),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

function num(value: number | null, unit: Row["unit"]): string {
  if (value === null || Number.isNaN(value)) return "-";
  if (unit === "rollbacks/s" || unit === "pages/s") return `${value.toFixed(1)}/s`;
  if (unit === "MB") return `${value.toFixed(0)} MB`;
  return value >= 100 ? `${value.toFixed(0)} ms` : value >= 10 ? `${value.toFixed(1)} ms` : `${value.toFixed(2)} ms`;
}

/** The table as Markdown, so the README can carry it verbatim. */
export function table(rows: Row[]): string {
  const header = ["scenario", "figure", "median", "p99", "baseline (median / p99)", "ratio", "target", "met?"];
  const lines = rows.map((r) => [
    r.scenario,
    r.figure,
    num(r.median, r.unit),
    num(r.p99, r.unit),
    `${r.baseline.name}: ${num(r.baseline.median, r.unit)} / ${num(r.baseline.p99, r.unit)}`,
    `${r.ratio.toFixed(2)}x (${r.ratioOf})`,
    r.target,
    r.met ? "met" : "MISSED",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [fmt(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...lines.map(fmt)].join("\n");
}

/** Product figure / baseline figure must stay at or below `max`. */
export function atMost(
  scenario: string,
  figure: string,
  unit: Row["unit"],
  product: Summary,
  baselineName: string,
  baseline: Summary,
  max: number,
  by: "median" | "p99" = "median",
): Row {
  const ratio = product[by] / baseline[by];
  return {
    scenario,
    figure,
    unit,
    median: product.median,
    p99: product.p99,
    baseline: { name: baselineName, median: baseline.median, p99: baseline.p99 },
    ratioOf: `product / baseline, ${by}`,
    ratio,
    target: `<= ${max}x`,
    met: ratio <= max,
  };
}

/** Baseline figure / product figure (how many times faster the product is) must reach `min`. */
export function fasterBy(scenario: string, figure: string, product: Summary, baselineName: string, baseline: Summary, min: number): Row {
  const ratio = baseline.median / product.median;
  return {
    scenario,
    figure,
    unit: "ms",
    median: product.median,
    p99: product.p99,
    baseline: { name: baselineName, median: baseline.median, p99: baseline.p99 },
    ratioOf: "baseline / product, median",
    ratio,
    target: `>= ${min}x faster`,
    met: ratio >= min,
  };
}
