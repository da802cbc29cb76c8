import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenOf } from "../../helpers/demo.js";
import { agentToken } from "../../helpers/fixtures.js";
import { deploy, recentDeployments, REPORT_SYNC, rollbackToPrevious, syncOf } from "../../helpers/operations.js";
import { removeScratch, runAgent, scratchDir } from "../../helpers/processes.js";
import { useTestServer } from "../../helpers/server.js";
import { watchDeployments, watchSync } from "../../helpers/subscriptions.js";

/**
 * The post-rollback loop: a rollback commits, the agent simulator pulls the hosted
 * repository over HTTP and reports, the ROLLBACK deployment turns SUCCESS and sync.state SYNCED,
 * live on syncStatusChanged and deploymentRecorded. Drift and degraded health follow the same path.
 */
describe("rollback, simulator sync, deployment status and sync status", () => {
  const t = useTestServer();
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

  /** The simulator's state file: what it "applied" to the cluster. */
  const appliedState = () =>
    JSON.parse(readFileSync(path.join(stateDir, "applied.json"), "utf8")) as {
      environments: Record<string, { revision: string; resources: Record<string, { manifest: { kind: string; spec: { replicas: number } } }> }>;
    };
  const agentArgs = (...extra: string[]) => ["--project", "demo", "--state-dir", stateDir, ...extra];

  it("full loop: rollback in acme/staging, simulator syncs once, ROLLBACK deployment SUCCESS and sync SYNCED, seen live", async () => {
    const before = await syncOf(t, victor, "acme", "staging");
    expect(before.sync).toMatchObject({ state: "UNKNOWN", agent: "NEVER_SEEN", revision: null, lastReportAt: null, drift: [] });

    const syncEvents = await watchSync(t, t.ws(victor), "acme", "staging");
    const deploymentEvents = await watchDeployments(t, t.ws(victor), "acme", "staging");

    const rollback = await rollbackToPrevious(t, jane, "acme", "staging");
    expect(rollback.state).toBe("COMPLETED");
    const sha = rollback.commitSha!;
    expect(t.git("demo", "rev-parse", "refs/heads/main").trim()).toBe(sha);
    const [newest] = await recentDeployments(t, victor, "acme", "staging", 1);
    expect(newest).toMatchObject({ revision: sha, source: "ROLLBACK", status: "PENDING" });
    await deploymentEvents.waitFor((e) => e.deploymentRecorded.revision === sha && e.deploymentRecorded.status === "PENDING", "PENDING rollback deployment");

    const ran = await runAgent(t, agent, agentArgs("--tenant", "acme", "--environment", "staging"));
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expect(ran.stdout.trim().split("\n")).toHaveLength(1);
    expect(ran.stdout).toMatch(new RegExp(`^acme/staging\\s+SYNCED\\s+Healthy\\s+${sha.slice(0, 7)}\\s+\\d\\d:\\d\\d:\\d\\d\\s*$`, "m"));

    const synced = await syncEvents.waitFor((e) => e.syncStatusChanged.revision === sha, "sync status of the rollback revision");
    expect(synced.syncStatusChanged).toMatchObject({ tenant: "acme", environment: "staging", state: "SYNCED", agent: "CONNECTED", health: "Healthy", drift: [] });
    const success = await deploymentEvents.waitFor((e) => e.deploymentRecorded.revision === sha && e.deploymentRecorded.status === "SUCCESS", "SUCCESS of the rollback deployment");
    expect(success.deploymentRecorded).toMatchObject({ id: newest!.id, source: "ROLLBACK" });

    const after = await syncOf(t, victor, "acme", "staging");
    expect(after.sync).toMatchObject({ revision: sha, state: "SYNCED", agent: "CONNECTED", health: "Healthy", drift: [] });
    expect(after.sync.lastReportAt).not.toBeNull();
    const [rolled] = await recentDeployments(t, victor, "acme", "staging", 1);
    expect(rolled).toMatchObject({ revision: sha, status: "SUCCESS", source: "ROLLBACK" });

    // What the simulator applied: the rendered manifests of that revision, in its state file.
    const applied = appliedState();
    expect(applied.environments["acme/staging"].revision).toBe(sha);
    const deployment = applied.environments["acme/staging"].resources["Deployment/acme-staging/api-gateway"];
    expect(deployment.manifest.kind).toBe("Deployment");
    const rendered = t.git("demo", "show", `${sha}:tenants/acme/staging/rendered/api-gateway.yaml`);
    expect(rendered).toContain(`replicas: ${deployment.manifest.spec.replicas}`);
    // The token was sent as a header, never stored with the clone.
    expect(readFileSync(path.join(stateDir, "repo", ".git", "config"), "utf8")).not.toContain(agent);
    syncEvents.dispose();
    deploymentEvents.dispose();
  });

  it("superseded deployments: a healthy report of a revision turns it and the older PENDING ones SUCCESS, newer ones stay PENDING", async () => {
    const [seedNewest] = await recentDeployments(t, victor, "acme", "dev", 1);
    expect(seedNewest!.status).toBe("PENDING");
    const d1 = await deploy(t, jane, { tenant: "acme", environment: "dev", service: "web", set: { replicas: 7 } });
    const d2 = await deploy(t, jane, { tenant: "acme", environment: "dev", service: "web", set: { replicas: 8 } });
    expect([d1.status, d2.status]).toEqual(["PENDING", "PENDING"]);
    const events = await watchDeployments(t, t.ws(victor), "acme", "dev");

    await t.ok(agent, REPORT_SYNC, { i: { project: "demo", tenant: "acme", environment: "dev", revision: d1.revision, state: "SYNCED", health: "Healthy" } });
    const statuses = async () => Object.fromEntries((await recentDeployments(t, victor, "acme", "dev", 3)).map((d) => [d.revision, d.status]));
    expect(await statuses()).toEqual({ [d2.revision]: "PENDING", [d1.revision]: "SUCCESS", [seedNewest!.revision]: "SUCCESS" });
    await events.waitFor((e) => e.deploymentRecorded.revision === seedNewest!.revision && e.deploymentRecorded.status === "SUCCESS", "superseded deployment SUCCESS");
    await events.waitFor((e) => e.deploymentRecorded.revision === d1.revision && e.deploymentRecorded.status === "SUCCESS", "reported deployment SUCCESS");

    // The simulator reports the repository head, which contains d2.
    const ran = await runAgent(t, agent, agentArgs("--tenant", "acme", "--environment", "dev"));
    expect(ran.code).toBe(0);
    expect(await statuses()).toEqual({ [d2.revision]: "SUCCESS", [d1.revision]: "SUCCESS", [seedNewest!.revision]: "SUCCESS" });
    events.dispose();
  });

  it("drift: --drift reports OUT_OF_SYNC with drift items, listed in tenantEnvironment.sync.drift", async () => {
    const syncEvents = await watchSync(t, t.ws(victor), "acme", "staging");
    const statusesBefore = (await recentDeployments(t, victor, "acme", "staging", 5)).map((d) => d.status);
    const ran = await runAgent(t, agent, agentArgs("--tenant", "acme", "--environment", "staging", "--drift"));
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/^acme\/staging\s+OUT_OF_SYNC\s+Healthy\s+[0-9a-f]{7}\s+\d\d:\d\d:\d\d\s+drift: 1 \(Deployment api-gateway spec\.replicas (\d+) → (\d+)\)/m);

    const head = t.git("demo", "rev-parse", "refs/heads/main").trim();
    const rendered = t.git("demo", "show", `${head}:tenants/acme/staging/rendered/api-gateway.yaml`);
    const desired = Number(/^ {2}replicas: (\d+)$/m.exec(rendered)![1]);
    const expected = [{ kind: "Deployment", name: "api-gateway", field: "spec.replicas", desired, actual: desired + 1 }];

    const event = await syncEvents.waitFor((e) => e.syncStatusChanged.state === "OUT_OF_SYNC", "OUT_OF_SYNC event");
    expect(event.syncStatusChanged.drift).toEqual(expected);
    const { sync } = await syncOf(t, victor, "acme", "staging");
    expect(sync).toMatchObject({ state: "OUT_OF_SYNC", revision: head, health: "Healthy", agent: "CONNECTED" });
    expect(sync.drift).toEqual(expected);
    // Not a statement about the deployment: statuses stay as they were.
    expect((await recentDeployments(t, victor, "acme", "staging", 5)).map((d) => d.status)).toEqual(statusesBefore);

    // The applied state really differs from Git: that is where the drift was computed from.
    const applied = appliedState();
    expect(applied.environments["acme/staging"].resources["Deployment/acme-staging/api-gateway"].manifest.spec.replicas).toBe(desired + 1);

    // A normal sync heals it: SYNCED again, no drift listed.
    expect((await runAgent(t, agent, agentArgs("--tenant", "acme", "--environment", "staging"))).code).toBe(0);
    expect((await syncOf(t, victor, "acme", "staging")).sync).toMatchObject({ state: "SYNCED", drift: [] });
    syncEvents.dispose();
  });

  it("degraded: --degraded makes the reported deployment FAILED; a later healthy sync makes it SUCCESS", async () => {
    const released = await deploy(t, jane, { tenant: "globex", environment: "staging", service: "billing", set: { "image.tag": "v9.9.9" } });
    const events = await watchDeployments(t, t.ws(victor), "globex", "staging");
    const ran = await runAgent(t, agent, agentArgs("--tenant", "globex", "--environment", "staging", "--degraded"));
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(new RegExp(`^globex/staging\\s+SYNCED\\s+Degraded\\s+${released.revision.slice(0, 7)}`, "m"));
    await events.waitFor((e) => e.deploymentRecorded.revision === released.revision && e.deploymentRecorded.status === "FAILED", "FAILED deployment");
    const [newest] = await recentDeployments(t, victor, "globex", "staging", 1);
    expect(newest).toMatchObject({ revision: released.revision, status: "FAILED" });
    expect((await syncOf(t, victor, "globex", "staging")).sync).toMatchObject({ state: "SYNCED", health: "Degraded", revision: released.revision });

    expect((await runAgent(t, agent, agentArgs("--tenant", "globex", "--environment", "staging"))).code).toBe(0);
    await events.waitFor((e) => e.deploymentRecorded.revision === released.revision && e.deploymentRecorded.status === "SUCCESS", "recovered deployment");
    events.dispose();
  });

  it("without filters, syncs every tenant-environment of the project, one line each, fetching new commits", async () => {
    const released = await deploy(t, jane, { tenant: "globex", environment: "dev", service: "worker", set: { replicas: 4 } });
    const ran = await runAgent(t, agent, agentArgs());
    expect(ran.code).toBe(0);
    const lines = ran.stdout.trim().split("\n");
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(["acme/dev", "acme/production", "acme/staging", "globex/dev", "globex/production", "globex/staging"]);
    for (const line of lines) expect(line).toMatch(new RegExp(`\\s+SYNCED\\s+Healthy\\s+${released.revision.slice(0, 7)}\\s`));
    const [newest] = await recentDeployments(t, victor, "globex", "dev", 1);
    expect(newest).toMatchObject({ revision: released.revision, status: "SUCCESS" });
    expect((await syncOf(t, victor, "acme", "production")).sync).toMatchObject({ state: "SYNCED", agent: "CONNECTED" });
  });
});
