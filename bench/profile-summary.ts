import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

/**
 * Where a CPU profile's main-thread time went: self time grouped by package (typeorm, graphql,
 * @apollo/server, the product's own folders, …) and the top functions by self time.
 *
 *   node dist/bench/profile-summary.js bench/tmp/scenario-a.cpuprofile [top]
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function groupOf(url: string, fn: string): string {
  if (!url) return fn === "(garbage collector)" ? "(gc)" : fn === "(idle)" ? "(idle)" : fn === "(program)" ? "(program: native, libuv)" : `(${fn || "native"})`;
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const m = /\/dist\/(src\/[^/]+|entities|resolvers|bench)\//.exec(url);
  if (m) return m[1]!;
  return url
    .replace(/^file:\/\//, "")
    .split("/")
    .slice(-2)
    .join("/");
}

export function summarize(profile: Profile, top = 25): string {
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const byGroup = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const group = groupOf(url, functionName);
    total += us;
    byGroup.set(group, (byGroup.get(group) ?? 0) + us);
    const key = `${functionName || "(anonymous)"} ${group}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  // The inspector's own work (starting and stopping the profile) is not the product's.
  byGroup.delete("node:inspector");
  for (const k of [...byFunction.keys()]) if (k.includes(" node:inspector:")) byFunction.delete(k);
  total = [...byGroup.values()].reduce((a, b) => a + b, 0);
  const busy = total - (byGroup.get("(idle)") ?? 0);
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  const lines = [`profile: ${(total / 1000).toFixed(0)} ms sampled, ${(busy / 1000).toFixed(0)} ms busy (not idle); shares of busy time`, "", "by package / folder (self time):"];
  for (const [g, us] of [...byGroup]
    .filter(([g]) => g !== "(idle)")
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    lines.push(`  ${ms(us)} ${pct(us)}  ${g}`);
  lines.push("", "top functions (self time):");
  for (const [f, us] of [...byFunction]
    .filter(([f]) => !f.startsWith("(idle)"))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    lines.push(`  ${ms(us)} ${pct(us)}  ${f}`);
  return lines.join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2]) {
  const profile = JSON.parse(readFileSync(process.argv[2], "utf8")) as Profile;
  process.stdout.write(`${summarize(profile, Number(process.argv[3] ?? 25))}\n`);
}
