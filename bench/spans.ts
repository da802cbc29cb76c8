import type { App } from "../src/app.js";
import { now } from "./stats.js";

/**
 * Timing spans around the product's own methods, installed from the outside (the product is not
 * edited): wraps async methods of the wired service instances and of the repository class, and
 * sums inclusive wall time per method. Spans nest (execute contains commitRollback contains
 * repo.commit), and concurrent calls overlap, so read them as "time spent inside", not shares.
 */

export interface SpanReport {
  ops: number;
  spans: { name: string; calls: number; callsPerOp: number; totalMs: number; meanMs: number }[];
}

type AnyFn = (...args: unknown[]) => unknown;

export async function installSpans(app: App) {
  const totals = new Map<string, { calls: number; ms: number }>();
  const restore: (() => void)[] = [];

  const wrap = (target: object, method: string, name: string) => {
    const obj = target as Record<string, AnyFn>;
    const original = obj[method];
    if (typeof original !== "function") return;
    const own = Object.prototype.hasOwnProperty.call(obj, method);
    obj[method] = function (this: unknown, ...args: unknown[]) {
      const start = now();
      const done = () => {
        const t = totals.get(name) ?? { calls: 0, ms: 0 };
        t.calls++;
        t.ms += now() - start;
        totals.set(name, t);
      };
      const result = original.apply(this, args);
      if (result && typeof (result as Promise<unknown>).then === "function") return (result as Promise<unknown>).finally(done);
      done();
      return result;
    };
    restore.push(() => {
      if (own) obj[method] = original;
      else delete obj[method];
    });
  };

  const services: [string, object, string[]][] = [
    ["rollbacks", app.rollbacks, ["request", "replay"]],
    ["executor", app.executor, ["execute", "commitRollback", "recordExecution", "rolledBackDeployments"]],
    ["rollbackQueries", app.rollbackQueries, ["load"]],
    ["deploymentQueries", app.deploymentQueries, ["findByRevision", "newerThan"]],
    ["deploymentRecorder", app.deploymentRecorder, ["recordCommit", "describeCommit", "record", "setStatus"]],
    ["approvals", app.approvals, ["decide", "policy", "activeSession"]],
    ["access", app.access, ["project", "findProject"]],
    ["catalog", app.catalog, ["tenantEnvironment", "tenantEnvironmentById", "findTenantEnvironment"]],
    ["audit", app.audit, ["append"]],
    ["auth", app.auth, ["authenticate"]],
    ["db", app.db, ["transaction", "withProjectLock"]],
    ["events", app.events, ["rollbackRequestUpdated", "deploymentRecorded"]],
  ];
  for (const [prefix, instance, methods] of services) for (const m of methods) wrap(instance, m, `${prefix}.${m}`);

  const proto = Object.getPrototypeOf(await app.git.open("bench")) as object;
  for (const m of [
    "head",
    "refresh",
    "commit",
    "entryId",
    "readFile",
    "readFiles",
    "listFiles",
    "changedFiles",
    "commitInfo",
    "resolveCommit",
    "applyWrites",
    "guardedPathsChanged",
    "treeAt",
    "subtree",
    "compareAndSwap",
  ]) {
    wrap(proto, m, `git.${m}`);
  }

  return {
    report(ops: number): SpanReport {
      const spans = [...totals]
        .map(([name, t]) => ({ name, calls: t.calls, callsPerOp: t.calls / ops, totalMs: Math.round(t.ms * 10) / 10, meanMs: t.ms / ops }))
        .sort((a, b) => b.totalMs - a.totalMs);
      return { ops, spans };
    },
    uninstall(): void {
      for (const r of restore.reverse()) r();
    },
  };
}

/** A CPU profile of the main thread (node:inspector), for a focused stage; written as a .cpuprofile file. */
export async function cpuProfile<T>(file: string, work: () => Promise<T>): Promise<T> {
  const { Session } = await import("node:inspector");
  const { mkdirSync, writeFileSync } = await import("node:fs");
  const path = await import("node:path");
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))));
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 200 });
  await post("Profiler.start");
  try {
    return await work();
  } finally {
    const { profile } = (await post("Profiler.stop")) as { profile: unknown };
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}
