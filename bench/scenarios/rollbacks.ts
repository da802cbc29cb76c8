import type { BenchContext } from "../context.js";
import { REQUEST_ROLLBACK } from "../client.js";
import type { RollbackFixture } from "../dataset.js";
import { atMost, fasterBy } from "../report.js";
import { countStatements } from "../sql-count.js";
import { measureInterleaved } from "../stats.js";
import { renderedFile, serviceDir } from "../../src/git/layout.js";

/**
 * A (full) and B (service, field): one rollback through the GraphQL mutation, from request to
 * COMPLETED, beside the same commit made with raw nodegit and with the git command line. The
 * three run round-robin, each on its own tenant-environment of identical shape, and every run
 * rolls back to the other of two deployments, so each one really changes the tree.
 */

type Kind = "full" | "service" | "field";

interface RollbackResponse {
  requestRollback: { id: string; state: string; commitSha: string | null; error: string | null };
}

export async function graphqlRollback(ctx: BenchContext, f: RollbackFixture, kind: Kind, target: string): Promise<string> {
  const input = {
    project: "bench",
    tenant: f.te.tenant,
    environment: f.te.environment,
    mode: kind === "full" ? "FULL" : kind === "service" ? "SERVICE" : "FIELD",
    targetSha: target,
    ...(kind !== "full" ? { service: f.service } : {}),
    ...(kind === "field" ? { fields: ["image.tag"] } : {}),
    justification: "bench: roll back a bad release",
  };
  const data = await ctx.client.request<RollbackResponse>(REQUEST_ROLLBACK, { input });
  const r = data.requestRollback;
  if (r.state !== "COMPLETED" || !r.commitSha) throw new Error(`rollback ${r.id} ended ${r.state}: ${r.error ?? "no commit"}`);
  return r.commitSha;
}

export async function runRollbacks(ctx: BenchContext, kind: Kind): Promise<void> {
  const { dataset: ds, options, raw, cli } = ctx;
  const fixtures = ds[kind];
  const message = (f: RollbackFixture, target: string) => `Rollback: tenant/${f.te.tenant} env/${f.te.environment} → revision ${target.slice(0, 7)}\n\nMode: ${kind}`;

  // Field baselines write the two files the product writes: values.yaml as at the target and
  // its regenerated manifest (the same bytes as the target's, since only the field differs).
  const fieldFiles = async (f: RollbackFixture) =>
    Promise.all(
      f.revisions.map(async (rev) => [
        { path: `${f.te.dir}/${serviceDir(f.service)}/values.yaml`, content: await raw.readFile(rev, `${f.te.dir}/${serviceDir(f.service)}/values.yaml`) },
        { path: `${f.te.dir}/${renderedFile(f.service)}`, content: await raw.readFile(rev, `${f.te.dir}/${renderedFile(f.service)}`) },
      ]),
    );
  const rawFiles = kind === "field" ? await fieldFiles(fixtures.nodegit) : [];
  const cliFiles = kind === "field" ? await fieldFiles(fixtures.cli) : [];

  const servicePaths = (f: RollbackFixture) => [`${f.te.dir}/${serviceDir(f.service)}`, `${f.te.dir}/${renderedFile(f.service)}`];
  const targetOf = (f: RollbackFixture, i: number) => f.revisions[i % 2]!;

  const ops = {
    graphql: (i: number) => graphqlRollback(ctx, fixtures.graphql, kind, targetOf(fixtures.graphql, i)),
    nodegit: (i: number) => {
      const f = fixtures.nodegit;
      const target = targetOf(f, i);
      if (kind === "full") return raw.copyFrom(target, [f.te.dir], message(f, target));
      if (kind === "service") return raw.copyFrom(target, servicePaths(f), message(f, target));
      return raw.writeFiles(rawFiles[i % 2]!, message(f, target));
    },
    cli: (i: number) => {
      const f = fixtures.cli;
      const target = targetOf(f, i);
      if (kind === "full") return cli.copyFrom(target, [{ path: f.te.dir, kind: "tree" }], message(f, target));
      if (kind === "service") {
        const [dir, rendered] = servicePaths(f);
        return cli.copyFrom(
          target,
          [
            { path: dir!, kind: "tree" },
            { path: rendered!, kind: "blob" },
          ],
          message(f, target),
        );
      }
      return cli.writeFiles(cliFiles[i % 2]!, message(f, target));
    },
  };
  const s = await measureInterleaved(options.warmup, options.runs, ops);
  const scenario = kind === "full" ? "A" : "B";
  const label = `${kind} rollback`;
  ctx.figures[`${scenario}.${kind}.graphql`] = s.graphql;
  ctx.figures[`${scenario}.${kind}.nodegit`] = s.nodegit;
  ctx.figures[`${scenario}.${kind}.cli`] = s.cli;
  ctx.rows.push(atMost(scenario, `${label}: GraphQL vs raw nodegit`, "ms", s.graphql, "raw nodegit", s.nodegit, 5));
  // One more rollback, with every SQL statement it sends counted (bench/README.md justifies each).
  const next = options.warmup + options.runs;
  const sql = await countStatements(ctx.app, () => graphqlRollback(ctx, fixtures.graphql, kind, targetOf(fixtures.graphql, next)));
  ctx.figures[`${scenario}.${kind}.sqlStatements`] = { count: sql.count, statements: sql.statements };
  ctx.rows.push(fasterBy(scenario, `${label}: GraphQL vs git CLI`, s.graphql, "git CLI", s.cli, 3));
  ctx.log(
    `  ${scenario} ${label}: GraphQL ${s.graphql.median.toFixed(1)} ms, raw nodegit ${s.nodegit.median.toFixed(1)} ms, git CLI ${s.cli.median.toFixed(1)} ms (medians); ${sql.count} SQL statements per rollback`,
  );
}
