import type { BenchContext } from "../context.js";
import { now, summarize } from "../stats.js";
import type { Row } from "../report.js";
import { graphqlRollback } from "./rollbacks.js";

/**
 * E: independent FULL rollbacks across N tenant-environments with C concurrent clients, in
 * rollbacks per second, beside the raw nodegit loop (the same tree swap and commit, one after
 * another) over the same tenant-environments. The raw loop runs after the GraphQL bursts:
 * commits behind the product's back would (rightly) make its rollbacks there conflict.
 */
export async function runThroughput(ctx: BenchContext): Promise<void> {
  const { options, dataset } = ctx;
  const fixtures = dataset.throughput;
  const rounds = options.throughputRounds;
  const bursts = options.quick ? 1 : 3;
  const latencies: number[] = [];
  const gqlRates: number[] = [];
  let round = 0;
  for (let b = 0; b < bursts; b++) {
    const start = now();
    let done = 0;
    const clientLoop = async (c: number) => {
      const mine = fixtures.filter((_, j) => j % options.throughputClients === c);
      for (let r = 0; r < rounds; r++) {
        for (const f of mine) {
          const t = now();
          await graphqlRollback(ctx, f, "full", f.revisions[(round + r) % 2]!);
          latencies.push(now() - t);
          done++;
        }
      }
    };
    await Promise.all(Array.from({ length: options.throughputClients }, (_, c) => clientLoop(c)));
    gqlRates.push(done / ((now() - start) / 1000));
    round += rounds;
  }

  const rawRates: number[] = [];
  for (let b = 0; b < bursts; b++) {
    const start = now();
    let done = 0;
    for (let r = 0; r < rounds; r++) {
      for (const f of fixtures) {
        const target = f.revisions[(round + r) % 2]!;
        await ctx.raw.copyFrom(target, [f.te.dir], `Rollback: tenant/${f.te.tenant} env/${f.te.environment} → revision ${target.slice(0, 7)}`);
        done++;
      }
    }
    rawRates.push(done / ((now() - start) / 1000));
    round += rounds;
  }
  const gql = summarize(gqlRates);
  const raw = summarize(rawRates);
  ctx.figures["E.graphqlRollbacksPerSecond"] = gql;
  ctx.figures["E.rawNodegitRollbacksPerSecond"] = raw;
  ctx.figures["E.graphqlLatencyUnderLoad"] = summarize(latencies);
  ctx.figures["E.shape"] = { tenantEnvironments: fixtures.length, clients: options.throughputClients, rollbacksPerBurst: fixtures.length * rounds, bursts };
  const ratio = gql.median / raw.median;
  const row: Row = {
    scenario: "E",
    figure: `throughput, ${fixtures.length} tenant-envs x ${options.throughputClients} clients`,
    unit: "rollbacks/s",
    median: gql.median,
    p99: null,
    baseline: { name: "raw nodegit loop", median: raw.median, p99: null },
    ratioOf: "product / baseline rate",
    ratio,
    target: ">= 0.25x",
    met: ratio >= 0.25,
  };
  ctx.rows.push(row);
  ctx.log(`  E GraphQL ${gql.median.toFixed(1)} rollbacks/s (latency p99 ${summarize(latencies).p99.toFixed(0)} ms), raw nodegit ${raw.median.toFixed(1)}/s`);
}
