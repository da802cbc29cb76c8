import type { BenchContext } from "../context.js";
import { COMPARE, PREVIEW } from "../client.js";
import { atMost } from "../report.js";
import { measureInterleaved } from "../stats.js";

/**
 * D: compareRevisions and previewRollback between two revisions `apart` deployments apart of one
 * tenant-environment with every service, beside a raw nodegit diff of the same two subtrees
 * with its unified patches read out.
 */
export async function runCompare(ctx: BenchContext): Promise<void> {
  const { compare } = ctx.dataset;
  const vars = { p: "bench", t: compare.te.tenant, e: compare.te.environment };
  const input = { project: "bench", tenant: compare.te.tenant, environment: compare.te.environment, mode: "FULL", targetSha: compare.target };
  let shape = { services: 0, files: 0, rawFiles: 0 };
  const s = await measureInterleaved(ctx.options.warmup, ctx.options.runs, {
    compare: async () => {
      const data = await ctx.client.request<{ compareRevisions: { services: { files: unknown[] }[] } }>(COMPARE, { ...vars, base: compare.base, target: compare.target });
      const services = data.compareRevisions.services;
      shape = { ...shape, services: services.length, files: services.reduce((n, x) => n + x.files.length, 0) };
    },
    preview: async () => {
      const data = await ctx.client.request<{ previewRollback: { baseSha: string; services: unknown[] } }>(PREVIEW, { input });
      if (data.previewRollback.baseSha !== compare.base) throw new Error("previewRollback was not computed against the expected base");
    },
    raw: async () => {
      shape.rawFiles = (await ctx.raw.diffDir(compare.base, compare.target, compare.te.dir)).files;
    },
  });
  ctx.figures["D.compareRevisions"] = s.compare;
  ctx.figures["D.previewRollback"] = s.preview;
  ctx.figures["D.rawTreeDiff"] = s.raw;
  ctx.figures["D.shape"] = { ...shape, apart: compare.apart, servicesInEnvironment: compare.services };
  ctx.rows.push(atMost("D", `compareRevisions, ${compare.apart} deployments apart`, "ms", s.compare, "raw tree diff", s.raw, 3));
  ctx.rows.push(atMost("D", `previewRollback, ${compare.apart} deployments apart`, "ms", s.preview, "raw tree diff", s.raw, 3));
  ctx.log(
    `  D ${shape.services} services / ${shape.files} files changed: compare ${s.compare.median.toFixed(1)} ms, preview ${s.preview.median.toFixed(1)} ms, raw diff ${s.raw.median.toFixed(1)} ms`,
  );
}
