import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeploymentStatus, Plan, Role } from "../../../entities/enums.js";
import { bindingsYaml, valuesYaml } from "../../../src/seed/demo.js";
import { expectError } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { agentToken } from "../../helpers/fixtures.js";
import { fileAt } from "../../helpers/git.js";
import { auditEvents, auditOf, historyRevisions, mustRequest, mustReview, REPORT_SYNC, uniqueTag } from "../../helpers/operations.js";
import { removeScratch, runAgent, runCli, scratchDir } from "../../helpers/processes.js";
import { startTestServer, type TestServer } from "../../helpers/server.js";
import { automaticRequests, mustDeploy, mustSetAutoRollback, POLICY_FIELDS, setAutoRollback, tryDeploy } from "../../helpers/automation.js";

/**
 * Automatic rollback on Degraded: a policy per environment; a Degraded report for a fresh
 * deployment makes the server request the rollback to the newest earlier SUCCESS deployment, as
 * `auto-rollback`, through approvals, gates and holds, once per failing deployment, never for a
 * rollback.
 */
describe("automatic rollback on Degraded", () => {
  let t: TestServer;
  let agent: string;
  let stateDir: string;
  let jane: string;
  let alice: string;

  beforeAll(async () => {
    t = await startTestServer();
    agent = await agentToken(t, "demo");
    stateDir = path.join(scratchDir("rbs-auto-"), "agent-state");
    jane = tokenOf(t, "jane");
    alice = tokenOf(t, "alice");
  });
  afterAll(async () => {
    await t?.stop();
    removeScratch();
  });

  const report = (token: string, project: string, tenant: string, environment: string, revision: string, health: string) =>
    t.ok(token, REPORT_SYNC, { i: { project, tenant, environment, revision, state: "SYNCED", health } });
  const headOf = async (tenant: string, environment: string, project = "demo") => (await historyRevisions(t, jane, project, tenant, environment, 1))[0]!;

  it("setAutoRollbackPolicy: ADMIN only, one policy per environment, FIELD refused, plan gates apply, audited", async () => {
    const policies = await t.ok<{ project: { autoRollbackPolicies: Record<string, unknown>[] } }>(
      tokenOf(t, "victor"),
      `{ project(slug: "demo") { autoRollbackPolicies { ${POLICY_FIELDS} } } }`,
    );
    expect(policies.project.autoRollbackPolicies.map(({ id: _id, ...p }) => p)).toEqual(
      ["dev", "staging", "production"].map((environment) => ({ environment, enabled: false, windowMinutes: 30, mode: "SERVICE", bypassApproval: false })),
    );
    const defaultId = policies.project.autoRollbackPolicies[0]!.id as string;
    expect((await t.ok<{ node: unknown }>(jane, `query($id: ID!) { node(id: $id) { id ... on AutoRollbackPolicy { environment enabled } } }`, { id: defaultId })).node).toEqual({
      id: defaultId,
      environment: "dev",
      enabled: false,
    });

    expectError(await setAutoRollback(t, jane, { environment: "staging", enabled: true }), "FORBIDDEN", 403, /ADMIN or higher is required/);
    expectError(await setAutoRollback(t, alice, { environment: "staging", enabled: true, mode: "FIELD" }), "BAD_USER_INPUT", 400, /^mode FIELD cannot be automatic/);
    expectError(
      await setAutoRollback(t, alice, { environment: "staging", enabled: true, windowMinutes: 0 }),
      "BAD_USER_INPUT",
      400,
      "windowMinutes must be a whole number from 1 to 1440, got 0",
    );
    expectError(await setAutoRollback(t, alice, { environment: "qa", enabled: true }), "NOT_FOUND", 404, `environment "qa" not found in project "demo"`);
    expectError(await setAutoRollback(t, tokenOf(t, "mallory"), { environment: "dev", enabled: true }), "NOT_FOUND", 404);
    expectError(
      await setAutoRollback(t, alice, { project: "starter", environment: "dev", enabled: true }),
      "FORBIDDEN",
      403,
      `SERVICE rollback is not available: it requires plan PRO or ENTERPRISE (organization "startup" is on FREE) and feature flag selective_rollback`,
    );
    const full = await setAutoRollback(t, alice, { project: "starter", environment: "dev", enabled: true, mode: "FULL", windowMinutes: 15 });
    expect(full.data?.setAutoRollbackPolicy).toMatchObject({ environment: "dev", enabled: true, windowMinutes: 15, mode: "FULL", bypassApproval: false });

    const set = await setAutoRollback(t, alice, { environment: "staging", enabled: true, windowMinutes: 30 });
    expect(set.data?.setAutoRollbackPolicy).toMatchObject({ environment: "staging", enabled: true, windowMinutes: 30, mode: "SERVICE", bypassApproval: false });
    const [event] = (await auditEvents(t)).nodes.filter((e) => e.action === "autorollback.policy_changed");
    expect(event).toMatchObject({
      actor: { email: "alice@example.com" },
      subjectId: "staging",
      details: {
        before: { enabled: false, windowMinutes: 30, mode: "SERVICE", bypassApproval: false },
        after: { enabled: true, windowMinutes: 30, mode: "SERVICE", bypassApproval: false },
      },
    });
  });

  it("the simulator reporting one service Degraded right after a deploy: one automatic SERVICE rollback by auto-rollback, held, healthy again", async () => {
    await mustSetAutoRollback(t, { environment: "staging", enabled: true, windowMinutes: 30, mode: "SERVICE" });
    // The cluster runs the current state healthily: it is the known-good deployment.
    const good = await headOf("acme", "staging");
    await report(agent, "demo", "acme", "staging", good, "Healthy");
    const bad = uniqueTag("v3");
    const released = await mustDeploy(t, jane, { tenant: "acme", environment: "staging", service: "billing", set: { "image.tag": bad } });
    const degradedArgs = ["--project", "demo", "--state-dir", stateDir, "--tenant", "acme", "--environment", "staging", "--degraded-service", "billing", "--degraded-tag", bad];

    const ran = await runAgent(t, agent, degradedArgs);
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(
      new RegExp(
        `^acme/staging\\s+SYNCED\\s+Degraded\\s+${released.revision.slice(0, 7)}\\s+\\S+\\s+degraded: Deployment billing \\(registry\\.example\\.com/acme-corp/billing:${bad.replace(/\./g, "\\.")}\\)$`,
        "m",
      ),
    );

    const automatic = await automaticRequests(t, "acme", "staging");
    expect(automatic).toHaveLength(1);
    const [request] = automatic;
    expect(request).toMatchObject({
      state: "COMPLETED",
      mode: "SERVICE",
      service: "billing",
      affectedServices: ["billing"],
      targetSha: good,
      trigger: "AUTOMATIC",
      triggeredBy: { id: released.id, revision: released.revision, status: "ROLLED_BACK" },
      requestedBy: { email: "auto-rollback" },
      breakGlass: false,
      requiredApprovals: 0,
    });
    expect(request!.justification).toMatch(
      new RegExp(
        `^Automatic rollback: the agent reported Degraded for revision ${released.revision.slice(0, 7)} \\("Release billing to acme/staging: image\\.tag=.*"\\) \\d+ min after it was deployed; auto-rollback policy of staging: SERVICE, 30-minute window$`,
      ),
    );
    expect(request!.commitMessage).toContain("\nAuthor: auto-rollback\nApproval: Not required\nTrigger: automatic\nRollback Request ID: ");
    expect(t.git("demo", "log", "-1", "--format=%an <%ae>", request!.commitSha!).trim()).toBe("auto-rollback <auto-rollback>");
    expect(fileAt(t, request!.commitSha!, "tenants/acme/staging/services/billing/values.yaml")).not.toContain(bad);
    expect(request!.holds.map((h) => [h.service, h.field, h.heldValue])).toEqual([["billing", "image.tag", bad]]);

    // The trail says why, and who: the auto-rollback identity, not the agent.
    const triggered = (await auditOf(t, released.id)).find((e) => e.action === "autorollback.triggered");
    expect(triggered).toMatchObject({
      actor: { email: "auto-rollback" },
      details: { revision: released.revision, health: "Degraded", mode: "SERVICE", targetSha: good, services: ["billing"], via: "auto-rollback" },
    });
    const requested = (await auditOf(t, request!.id)).find((e) => e.action === "rollback.requested");
    expect(requested).toMatchObject({ actor: { email: "auto-rollback" }, details: { trigger: "AUTOMATIC", triggeredByDeploymentId: released.id, via: "auto-rollback" } });

    // More Degraded reports of the same revision change nothing; the next sync is healthy.
    await Promise.all([1, 2, 3].map(() => report(agent, "demo", "acme", "staging", released.revision, "Degraded")));
    const healed = await runAgent(t, agent, degradedArgs);
    expect(healed.stdout).toMatch(new RegExp(`^acme/staging\\s+SYNCED\\s+Healthy\\s+${request!.commitSha!.slice(0, 7)}\\s`, "m"));
    expect(await automaticRequests(t, "acme", "staging")).toHaveLength(1);
    const [rollbackDeployment] = await t
      .ok<{ deploymentHistory: { nodes: { revision: string; status: string; source: string }[] } }>(
        jane,
        `{ deploymentHistory(project: "demo", tenant: "acme", environment: "staging", first: 1) { nodes { revision status source } } }`,
      )
      .then((d) => d.deploymentHistory.nodes);
    expect(rollbackDeployment).toEqual({ revision: request!.commitSha, status: "SUCCESS", source: "ROLLBACK" });

    // The hold applies: the bad value does not come back through the next deploy.
    expectError(
      await tryDeploy(t, jane, { tenant: "acme", environment: "staging", service: "billing", set: { "image.tag": bad } }),
      "CONFLICT",
      409,
      `deployment re-introduces values held after rollback ${request!.id}: billing image.tag = ${bad}`,
    );
  });

  it("never rolls back a rollback: a Degraded ROLLBACK deployment is left alone, with an audit event saying why", async () => {
    await mustSetAutoRollback(t, { environment: "dev", enabled: true, mode: "FULL" });
    const [, previous] = await historyRevisions(t, jane, "demo", "acme", "dev", 2);
    const manual = await mustRequest(t, jane, { environment: "dev", mode: "FULL", targetSha: previous!, justification: "manual rollback" });
    expect(manual.state).toBe("COMPLETED");
    await report(agent, "demo", "acme", "dev", manual.commitSha!, "Degraded");
    await report(agent, "demo", "acme", "dev", manual.commitSha!, "Degraded");
    expect(await automaticRequests(t, "acme", "dev")).toEqual([]);
    const [deployment] = await t
      .ok<{ deploymentHistory: { nodes: { id: string }[] } }>(jane, `{ deploymentHistory(project: "demo", tenant: "acme", environment: "dev", first: 1) { nodes { id } } }`)
      .then((d) => d.deploymentHistory.nodes);
    const skipped = (await auditOf(t, deployment!.id)).filter((e) => e.action === "autorollback.skipped");
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.details.reason).toBe(`deployment ${manual.commitSha!.slice(0, 7)} is itself a rollback: automatic rollback never rolls back a rollback`);
  });

  it("a newer deployment before the report cancels it", async () => {
    const first = await mustDeploy(t, jane, { tenant: "globex", environment: "dev", service: "billing", set: { "image.tag": uniqueTag("v2") } });
    const second = await mustDeploy(t, jane, { tenant: "globex", environment: "dev", service: "web", set: { "image.tag": uniqueTag("v2") } });
    await report(agent, "demo", "globex", "dev", first.revision, "Degraded");
    expect(await automaticRequests(t, "globex", "dev")).toEqual([]);
    const [skipped] = (await auditOf(t, first.id)).filter((e) => e.action === "autorollback.skipped");
    expect(skipped?.details.reason).toBe(`a newer deployment ${second.revision.slice(0, 7)} (RELEASE) replaced ${first.revision.slice(0, 7)} before the report`);
  });

  it("approval-aware in production: the automatic request waits for a reviewer; outside the window nothing happens", async () => {
    await mustSetAutoRollback(t, { environment: "production", enabled: true, windowMinutes: 180, mode: "SERVICE" });
    // The demo's v2.1.0 release went out two hours ago: inside a 180-minute window.
    const [bad, previous] = await historyRevisions(t, jane, "demo", "acme", "production", 2);
    await report(agent, "demo", "acme", "production", bad!, "Degraded");
    const [pending] = await automaticRequests(t, "acme", "production");
    expect(pending).toMatchObject({
      state: "PENDING",
      requiredApprovals: 1,
      service: "api-gateway",
      targetSha: previous,
      requestedBy: { email: "auto-rollback" },
      breakGlass: false,
    });
    const done = await mustReview(t, tokenOf(t, "bob"), pending!.id, "APPROVE");
    expect(done.state).toBe("COMPLETED");
    expect(done.commitMessage).toContain("\nApproval: Approved by bob@example.com (quorum: 1/1)\nTrigger: automatic\n");

    // globex/production's newest deployment is days old.
    const old = await headOf("globex", "production");
    await report(agent, "demo", "globex", "production", old, "Degraded");
    expect(await automaticRequests(t, "globex", "production")).toEqual([]);
    const skipped = (await auditEvents(t)).nodes.find((e) => e.action === "autorollback.skipped" && e.details.revision === old);
    expect(skipped?.details.reason).toMatch(new RegExp(`^deployment ${old.slice(0, 7)} was \\d+ minutes old at the report, outside the 180-minute window$`));
  });

  it("bypassApproval: the automatic request executes at once, flagged in the audit trail like break-glass", async () => {
    await mustSetAutoRollback(t, { environment: "production", enabled: true, windowMinutes: 30, mode: "SERVICE", bypassApproval: true });
    const released = await mustDeploy(t, jane, { tenant: "globex", environment: "production", service: "web", set: { "image.tag": uniqueTag("v8") } });
    await report(agent, "demo", "globex", "production", released.revision, "Degraded");
    const [request] = await automaticRequests(t, "globex", "production");
    expect(request).toMatchObject({ state: "COMPLETED", breakGlass: true, requiredApprovals: 1, service: "web", triggeredBy: { id: released.id } });
    expect(request!.commitMessage).toContain("\nApproval: Bypassed by the auto-rollback policy of production\nTrigger: automatic\n");
    const flagged = (await auditEvents(t, { breakGlassOnly: true })).nodes.filter((e) => e.subjectId === request!.id).map((e) => e.action);
    expect(flagged.sort()).toEqual(["autorollback.approval_bypassed", "hold.created", "rollback.executed", "rollback.requested"]);
  });

  it("FULL mode on a FREE plan rolls back the whole tenant-environment; none without an earlier SUCCESS deployment", async () => {
    const starterAgent = await agentToken(t, "starter");
    await mustSetAutoRollback(t, { project: "starter", environment: "staging", enabled: true, mode: "FULL" });
    const good = await headOf("acme", "staging", "starter");
    await report(starterAgent, "starter", "acme", "staging", good, "Healthy");
    const released = await mustDeploy(t, jane, {
      project: "starter",
      tenant: "acme",
      environment: "staging",
      service: "worker",
      set: { replicas: 5, "image.tag": uniqueTag("v1") },
    });
    await report(starterAgent, "starter", "acme", "staging", released.revision, "Unhealthy");
    const [request] = await automaticRequests(t, "acme", "staging", "starter");
    expect(request).toMatchObject({ state: "COMPLETED", mode: "FULL", service: null, targetSha: good, affectedServices: ["worker"] });

    // A project whose only deployments never succeeded: nothing known-good to go back to.
    await freshProject(t, "fresh");
    const freshAgent = await agentToken(t, "fresh");
    await mustSetAutoRollback(t, { project: "fresh", environment: "dev", enabled: true, mode: "FULL" });
    const deployed = await mustDeploy(t, jane, { project: "fresh", tenant: "acme", environment: "dev", service: "api", set: { "image.tag": "v2.0.0" } });
    await report(freshAgent, "fresh", "acme", "dev", deployed.revision, "Degraded");
    expect(await automaticRequests(t, "acme", "dev", "fresh")).toEqual([]);
    const [skipped] = (await auditOf(t, deployed.id, "fresh")).filter((e) => e.action === "autorollback.skipped");
    expect(skipped?.details.reason).toBe(`no deployment before ${deployed.revision.slice(0, 7)} has status SUCCESS: there is no known-good revision to roll back to`);
  });

  it("reindex rebuilds an automatic rollback's deployment from Git, authored by auto-rollback", async () => {
    const [automatic] = await automaticRequests(t, "acme", "staging");
    const query = `{ deploymentHistory(project: "demo", tenant: "acme", environment: "staging", source: ROLLBACK, first: 5) { nodes { revision author { email } rollbackRequest { id trigger } } } }`;
    const before = (await t.ok<{ deploymentHistory: { nodes: unknown[] } }>(jane, query)).deploymentHistory.nodes;
    const cli = await runCli(t, ["reindex", "--project", "demo"]);
    expect(cli.code, cli.stderr).toBe(0);
    const after = (await t.ok<{ deploymentHistory: { nodes: unknown[] } }>(jane, query)).deploymentHistory.nodes;
    expect(after).toEqual(before);
    expect(after).toContainEqual({ revision: automatic!.commitSha, author: { email: "auto-rollback" }, rollbackRequest: { id: automatic!.id, trigger: "AUTOMATIC" } });
    // Nobody can sign in as the server.
    const token = await runCli(t, ["token", "create", "--email", "auto-rollback", "--project", "demo", "--role", "ADMIN"]);
    expect(token.code).not.toBe(0);
    expect(token.stderr).toContain(`"auto-rollback" is the server's own identity: it cannot hold a role or a token`);
  });
});

/** A project with one import that never reached SUCCESS, made through the product's own services (as the seed does). */
async function freshProject(t: TestServer, slug: string): Promise<void> {
  const { app } = t;
  const project = await app.db.transaction(async (tx) => {
    const org = await app.catalog.ensureOrganization(`${slug}-org`, Plan.ENTERPRISE, ["basic_rollback", "rollback", "selective_rollback"], tx);
    return app.catalog.createProject(tx, { organization: org, slug, environments: ["dev"], tenants: ["acme"] });
  });
  const [jane, alice] = await Promise.all([app.auth.findUser("jane@example.com"), app.auth.findUser("alice@example.com")]);
  await app.auth.grant(jane!, project, Role.DEPLOYER);
  await app.auth.grant(alice!, project, Role.ADMIN);
  const victor = await app.auth.findUser("victor@example.com");
  await app.auth.grant(victor!, project, Role.VIEWER);
  const te = await app.catalog.tenantEnvironment(project, "acme", "dev");
  const files = new Map([
    ["services/api/values.yaml", valuesYaml(slug, "api", "v1.0.0", 1)],
    ["services/api/bindings.yaml", bindingsYaml("api")],
  ]);
  await app.deployments.importFiles({ kind: "system", user: null }, project, te, files, { author: alice!, summary: "Import acme/dev", status: DeploymentStatus.PENDING });
}
