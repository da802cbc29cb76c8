import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { agentToken } from "../../helpers/fixtures.js";
import { recentDeployments, rollbackToPrevious, syncOf } from "../../helpers/operations.js";
import { removeScratch, runAgent, scratchDir } from "../../helpers/processes.js";
import { useTestServer } from "../../helpers/server.js";
import { watchSync } from "../../helpers/subscriptions.js";

/**
 * An agent that stops reporting shows UNREACHABLE after AGENT_UNREACHABLE_AFTER
 * seconds (1 here); a rollback there still commits, and its deployment stays PENDING until a
 * report arrives. Waits poll for the outcome; no timing is asserted.
 */
describe("unreachable agent", () => {
  const t = useTestServer({ env: { AGENT_UNREACHABLE_AFTER: "1" } });
  let agent: string;
  let jane: string;
  let victor: string;
  let stateDir: string;

  beforeAll(async () => {
    agent = await agentToken(t, "demo");
    jane = tokenOf(t, "jane");
    victor = tokenOf(t, "victor");
    stateDir = path.join(scratchDir(), "agent-state");
  });
  afterAll(async () => {
    removeScratch();
  });

  it("shows UNREACHABLE after a silent interval, announced on syncStatusChanged; a rollback still commits and stays PENDING until the agent reports", async () => {
    const events = await watchSync(t, t.ws(victor), "acme", "staging");
    const ran = await runAgent(t, agent, ["--project", "demo", "--tenant", "acme", "--environment", "staging", "--state-dir", stateDir]);
    expect(ran.code).toBe(0);
    const reported = (await syncOf(t, victor, "acme", "staging")).sync;
    expect(reported.state).toBe("SYNCED");
    expect(reported.lastReportAt).not.toBeNull();

    // The agent goes silent.
    const unreachable = await eventually(async () => {
      const { sync } = await syncOf(t, victor, "acme", "staging");
      return sync.agent === "UNREACHABLE" ? sync : undefined;
    }, "agent UNREACHABLE");
    // The last report is still shown as it was.
    expect(unreachable).toMatchObject({ state: "SYNCED", revision: reported.revision, lastReportAt: reported.lastReportAt, health: "Healthy" });
    // The server's maintenance loop announces the change to live dashboards.
    const announced = await events.waitFor((e) => e.syncStatusChanged.agent === "UNREACHABLE", "UNREACHABLE announcement");
    expect(announced.syncStatusChanged).toMatchObject({ tenant: "acme", environment: "staging", revision: reported.revision });
    // Other tenant-environments never had an agent: NEVER_SEEN, not UNREACHABLE.
    expect((await syncOf(t, victor, "acme", "dev")).sync.agent).toBe("NEVER_SEEN");

    // A rollback in that environment completes: the commit is in Git, the agent does not block it.
    const rollback = await rollbackToPrevious(t, jane, "acme", "staging");
    expect(rollback.state).toBe("COMPLETED");
    expect(t.git("demo", "rev-parse", "refs/heads/main").trim()).toBe(rollback.commitSha);
    const [newest] = await recentDeployments(t, victor, "acme", "staging", 1);
    expect(newest).toMatchObject({ revision: rollback.commitSha, source: "ROLLBACK", status: "PENDING" });
    const meanwhile = (await syncOf(t, victor, "acme", "staging")).sync;
    expect(meanwhile).toMatchObject({ agent: "UNREACHABLE", revision: reported.revision });
    expect((await recentDeployments(t, victor, "acme", "staging", 1))[0]!.status).toBe("PENDING");

    // The agent comes back: it pulls the rollback commit, reports, and the deployment is confirmed.
    const back = await runAgent(t, agent, ["--project", "demo", "--tenant", "acme", "--environment", "staging", "--state-dir", stateDir]);
    expect(back.code).toBe(0);
    expect(back.stdout).toContain(rollback.commitSha!.slice(0, 7));
    expect((await recentDeployments(t, victor, "acme", "staging", 1))[0]).toMatchObject({ revision: rollback.commitSha, status: "SUCCESS" });
    const after = (await syncOf(t, victor, "acme", "staging")).sync;
    expect(after).toMatchObject({ revision: rollback.commitSha, state: "SYNCED" });
    expect(new Date(after.lastReportAt!).getTime()).toBeGreaterThan(new Date(reported.lastReportAt!).getTime());
    events.dispose();
  });
});
