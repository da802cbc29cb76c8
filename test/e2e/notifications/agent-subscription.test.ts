import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokensOf } from "../../helpers/demo.js";
import { agentToken as issueAgentToken } from "../../helpers/fixtures.js";
import { mustRequest, revisionBack } from "../../helpers/operations.js";
import { startAgent, type AgentProcess } from "../../helpers/processes.js";
import { useTestServer } from "../../helpers/server.js";
import { collect } from "../../helpers/subscriptions.js";

const SYNC = `subscription($t:String,$e:String){ syncStatusChanged(project:"demo", tenant:$t, environment:$e){ revision state } }`;

/**
 * The agent simulator hears about new deployments over graphql-ws (deploymentRecorded) and syncs
 * at once, long before its polling interval; with --no-watch it waits for the interval.
 */
describe("agent simulator: syncing on deploymentRecorded", () => {
  const t = useTestServer();
  let agentToken: string;
  let jane: string;
  let victor: string;
  const scratch = mkdtempSync(path.join(tmpdir(), "rbs-agent-watch-"));
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    agentToken = await issueAgentToken(t);
    [jane, victor] = tokensOf(t, "jane", "victor");
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    rmSync(scratch, { recursive: true, force: true });
  });

  const agent = (environment: string, ...extra: string[]) => {
    const a = startAgent(t, agentToken, [
      "--project",
      "demo",
      "--tenant",
      "acme",
      "--environment",
      environment,
      "--interval",
      "600",
      "--state-dir",
      path.join(scratch, environment),
      ...extra,
    ]);
    agents.push(a);
    return a;
  };
  const nextSync = (environment: string, revision?: string) => {
    const events = collect<{ syncStatusChanged: { revision: string; state: string } }>(t.ws(victor), SYNC, { t: "acme", e: environment }, 1, 30_000);
    const matching = new Promise<{ revision: string; state: string }>((resolve, reject) => {
      const poll = setInterval(() => {
        const hit = events.items.find((e) => e.syncStatusChanged.state === "SYNCED" && (!revision || e.syncStatusChanged.revision === revision));
        if (hit) {
          clearInterval(poll);
          resolve(hit.syncStatusChanged);
        }
      }, 20);
      events.done.catch((err: unknown) => {
        clearInterval(poll);
        reject(err instanceof Error ? err : new Error(JSON.stringify(err)));
      });
    });
    return { ready: events.ready, matching, dispose: events.dispose };
  };

  it("a rollback is applied and reported SYNCED within moments, with a 10-minute polling interval", async () => {
    const first = nextSync("staging");
    await first.ready;
    const a = agent("staging");
    await first.matching; // its first round, at start
    first.dispose();

    const synced = nextSync("staging");
    await synced.ready;
    const target = await revisionBack(t, jane, "acme", "staging", 2);
    const started = Date.now();
    const rollback = await mustRequest(t, jane, { tenant: "acme", environment: "staging", targetSha: target });
    expect(rollback.state).toBe("COMPLETED");
    const report = await synced.matching;
    synced.dispose();
    expect(report).toEqual({ revision: rollback.commitSha, state: "SYNCED" });
    expect(Date.now() - started).toBeLessThan(30_000); // the interval is 600 s: only the subscription explains it
    const history = await t.ok<{ deploymentHistory: { nodes: { revision: string; status: string }[] } }>(
      victor,
      `{ deploymentHistory(project:"demo", tenant:"acme", environment:"staging", first:1){ nodes { revision status } } }`,
    );
    expect(history.deploymentHistory.nodes[0]).toEqual({ revision: rollback.commitSha, status: "SUCCESS" });
    expect(a.output()).not.toMatch(/error/i);
  });

  it("with --no-watch the agent only polls: a rollback waits for the next interval", async () => {
    const first = nextSync("dev");
    await first.ready;
    agent("dev", "--no-watch");
    await first.matching;
    first.dispose();

    const target = await revisionBack(t, jane, "acme", "dev", 2);
    const rollback = await mustRequest(t, jane, { tenant: "acme", environment: "dev", targetSha: target });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const sync = await t.ok<{ project: { tenants: { slug: string; environments: { name: string; sync: { revision: string } }[] }[] } }>(
      victor,
      `{ project(slug:"demo"){ tenants { slug environments { name sync { revision } } } } }`,
    );
    const dev = sync.project.tenants.find((x) => x.slug === "acme")!.environments.find((e) => e.name === "dev")!;
    expect(dev.sync.revision).not.toBe(rollback.commitSha);
  });

  it("an agent token may subscribe to its own project's deployments only", async () => {
    const other = await issueAgentToken(t, "starter");
    const error = await new Promise<unknown>((resolve) => {
      t.ws(other).subscribe(
        { query: `subscription { deploymentRecorded(project:"demo"){ revision } }` },
        { next: (v) => v.errors && resolve(v.errors), error: resolve, complete: () => resolve("completed without error") },
      );
    });
    expect(JSON.stringify(error)).toContain("NOT_FOUND");
    const refused = await new Promise<unknown>((resolve) => {
      t.ws(agentToken).subscribe(
        { query: `subscription { rollbackRequestUpdated(project:"demo"){ id } }` },
        { next: (v) => v.errors && resolve(v.errors), error: resolve, complete: () => resolve("completed without error") },
      );
    });
    expect(JSON.stringify(refused)).toContain("FORBIDDEN");
  });
});
