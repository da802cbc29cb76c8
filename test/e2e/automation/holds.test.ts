import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { fileAt, head } from "../../helpers/git.js";
import { auditOf, historyRevisions, mustRequest, mustReview, uniqueTag } from "../../helpers/operations.js";
import { startTestServer, type TestServer } from "../../helpers/server.js";
import { holdsOf, mustDeploy, releaseHold, tryDeploy, type Hold } from "../../helpers/automation.js";

/**
 * Holds after rollback: a completed rollback holds the values it undid, a deploy writing one back
 * is refused until it is overridden with a justification or the hold is released, and a rollback
 * to a revision holding the value releases it.
 */
describe("holds after rollback", () => {
  let t: TestServer;
  let jane: string;
  let bob: string;

  beforeAll(async () => {
    t = await startTestServer();
    jane = tokenOf(t, "jane");
    bob = tokenOf(t, "bob");
  });
  afterAll(async () => {
    await t?.stop();
  });

  const holdView = (h: Hold) => ({ service: h.service, field: h.field, heldValue: h.heldValue });

  it("the demo incident: api-gateway v2.1.0 rolled back in acme/production cannot be deployed again until overridden with a justification", async () => {
    const [bad, previous] = await historyRevisions(t, jane, "demo", "acme", "production", 2);
    expect(fileAt(t, bad!, "tenants/acme/production/services/api-gateway/values.yaml")).toContain('tag: "v2.1.0"');

    // Roll api-gateway back; production needs one approval.
    const pending = await mustRequest(t, jane, { mode: "SERVICE", service: "api-gateway", targetSha: previous!, justification: "v2.1.0 returns 500s" });
    expect(pending.state).toBe("PENDING");
    const done = await mustReview(t, bob, pending.id, "APPROVE");
    expect(done.state).toBe("COMPLETED");

    const holds = await holdsOf(t, "acme", "production");
    expect(holds.map(holdView)).toEqual([{ service: "api-gateway", field: "image.tag", heldValue: "v2.1.0" }]);
    expect(holds[0]).toMatchObject({ tenant: "acme", environment: "production", releasedAt: null, releasedBy: null, releaseKind: null, rollbackRequest: { id: done.id } });
    const onRequest = await t.ok<{ rollbackRequest: { holds: Hold[] } }>(jane, `query($id: ID!) { rollbackRequest(id: $id) { holds { id field heldValue } } }`, { id: done.id });
    expect(onRequest.rollbackRequest.holds).toEqual([{ id: holds[0]!.id, field: "image.tag", heldValue: "v2.1.0" }]);
    const created = (await auditOf(t, done.id)).find((e) => e.action === "hold.created");
    expect(created?.details).toMatchObject({
      tenant: "acme",
      environment: "production",
      holds: [{ id: holds[0]!.id, service: "api-gateway", field: "image.tag", value: "v2.1.0" }],
    });

    // Deploying v2.1.0 again: refused, nothing written.
    const before = head(t);
    const refused = await tryDeploy(t, jane, { tenant: "acme", environment: "production", service: "api-gateway", set: { "image.tag": "v2.1.0" } });
    const err = expectError(refused, "CONFLICT", 409, `deployment re-introduces values held after rollback ${done.id}: api-gateway image.tag = v2.1.0`);
    expect(err.extensions?.holds).toEqual([{ id: holds[0]!.id, rollbackRequestId: done.id, service: "api-gateway", field: "image.tag", value: "v2.1.0" }]);
    expect(head(t)).toBe(before);

    // Other fields and other values deploy as usual.
    await mustDeploy(t, jane, { tenant: "acme", environment: "production", service: "api-gateway", set: { replicas: 9 } });
    await mustDeploy(t, jane, { tenant: "acme", environment: "production", service: "api-gateway", set: { "image.tag": "v2.1.1" } });

    // The override needs a justification.
    const unjustified = await tryDeploy(t, jane, { tenant: "acme", environment: "production", service: "api-gateway", set: { "image.tag": "v2.1.0" }, overrideHolds: true });
    expectError(unjustified, "BAD_USER_INPUT", 400, /^holdOverrideJustification is required/);
    const stray = await tryDeploy(t, jane, {
      tenant: "acme",
      environment: "production",
      service: "api-gateway",
      set: { "image.tag": "v2.1.0" },
      holdOverrideJustification: "forgot the flag",
    });
    expectError(stray, "BAD_USER_INPUT", 400, "holdOverrideJustification applies only with overrideHolds: true");

    const overridden = await mustDeploy(t, jane, {
      tenant: "acme",
      environment: "production",
      service: "api-gateway",
      set: { "image.tag": "v2.1.0" },
      overrideHolds: true,
      holdOverrideJustification: "v2.1.0 fixed by a config change in INC-42",
    });
    const message = t.git("demo", "log", "-1", "--format=%B", overridden.revision);
    expect(message).toContain(`Hold-Override: ${holds[0]!.id}\n`);
    expect(message).toContain("Hold-Override-Justification: v2.1.0 fixed by a config change in INC-42\n");
    expect(await holdsOf(t, "acme", "production")).toEqual([]);
    const [released] = await holdsOf(t, "acme", "production", false);
    expect(released).toMatchObject({
      id: holds[0]!.id,
      releasedBy: { email: "jane@example.com" },
      releaseKind: "DEPLOY_OVERRIDE",
      releaseJustification: "v2.1.0 fixed by a config change in INC-42",
    });
    expect(released!.releasedAt).not.toBeNull();
    const events = await auditOf(t, overridden.id);
    expect(events.map((e) => e.action)).toEqual(["deployment.created", "hold.overridden"]);
    expect(events[1]).toMatchObject({
      actor: { email: "jane@example.com" },
      details: {
        revision: overridden.revision,
        justification: "v2.1.0 fixed by a config change in INC-42",
        holds: [{ id: holds[0]!.id, service: "api-gateway", field: "image.tag", value: "v2.1.0" }],
      },
    });
  });

  it("a FULL rollback holds the changed fields of every deployment it undid, each value once", async () => {
    const [good] = await historyRevisions(t, jane, "demo", "acme", "staging", 1);
    const billingTag = uniqueTag("v7");
    const webTag = uniqueTag("v7");
    await mustDeploy(t, jane, { tenant: "acme", environment: "staging", service: "billing", set: { "image.tag": billingTag } });
    await mustDeploy(t, jane, { tenant: "acme", environment: "staging", service: "billing", set: { replicas: 7, "variables:LOG_LEVEL": "trace" } });
    await mustDeploy(t, jane, { tenant: "acme", environment: "staging", service: "web", set: { "image.tag": webTag } });
    const done = await mustRequest(t, jane, { environment: "staging", mode: "FULL", targetSha: good!, justification: "staging went bad" });
    expect(done.state).toBe("COMPLETED");
    const holds = (await holdsOf(t, "acme", "staging")).filter((h) => h.rollbackRequest.id === done.id);
    expect(holds.map(holdView).sort((a, b) => `${a.service} ${a.field}`.localeCompare(`${b.service} ${b.field}`))).toEqual([
      { service: "billing", field: "image.tag", heldValue: billingTag },
      { service: "billing", field: "replicas", heldValue: 7 },
      { service: "billing", field: "variables:LOG_LEVEL", heldValue: "trace" },
      { service: "web", field: "image.tag", heldValue: webTag },
    ]);

    // Each held value is refused where it was held; the same value elsewhere is not.
    expectError(
      await tryDeploy(t, jane, { tenant: "acme", environment: "staging", service: "billing", set: { replicas: 7 } }),
      "CONFLICT",
      409,
      `deployment re-introduces values held after rollback ${done.id}: billing replicas = 7`,
    );
    await mustDeploy(t, jane, { tenant: "globex", environment: "staging", service: "billing", set: { replicas: 7 } });
    // Every offending value of one deploy is listed.
    const both = await tryDeploy(t, jane, { tenant: "acme", environment: "staging", service: "billing", set: { replicas: 7, "image.tag": billingTag } });
    expectError(both, "CONFLICT", 409, `deployment re-introduces values held after rollback ${done.id}: billing image.tag = ${billingTag}, billing replicas = 7`);
  });

  it("a FIELD rollback holds only the selected fields; a later rollback to a revision holding the value releases the hold", async () => {
    const [good] = await historyRevisions(t, jane, "demo", "globex", "staging", 1);
    const tag = uniqueTag("v6");
    const bad = await mustDeploy(t, jane, { tenant: "globex", environment: "staging", service: "auth", set: { "image.tag": tag, "variables:LOG_LEVEL": "debug" } });
    const field = await mustRequest(t, jane, {
      tenant: "globex",
      environment: "staging",
      mode: "FIELD",
      service: "auth",
      fields: ["image.tag"],
      targetSha: good!,
      justification: "bad auth tag",
    });
    expect(field.state).toBe("COMPLETED");
    const held = (await holdsOf(t, "globex", "staging")).filter((h) => h.rollbackRequest.id === field.id);
    expect(held.map(holdView)).toEqual([{ service: "auth", field: "image.tag", heldValue: tag }]);
    // The selector may be spelled with its file: values:image.tag is image.tag.
    expectError(await tryDeploy(t, jane, { tenant: "globex", environment: "staging", service: "auth", set: { "values:image.tag": tag } }), "CONFLICT", 409);

    // Back to the bad revision, on purpose: the operator chose the value, the hold goes.
    const back = await mustRequest(t, jane, {
      tenant: "globex",
      environment: "staging",
      mode: "SERVICE",
      service: "auth",
      targetSha: bad.revision,
      justification: "the tag was not the problem after all",
    });
    expect(back.state).toBe("COMPLETED");
    const [released] = (await holdsOf(t, "globex", "staging", false)).filter((h) => h.id === held[0]!.id);
    expect(released).toMatchObject({ releaseKind: "ROLLBACK", releasedBy: { email: "jane@example.com" }, releaseJustification: "the tag was not the problem after all" });
    expect((await auditOf(t, held[0]!.id)).map((e) => [e.action, e.details.via])).toEqual([["hold.released", "rollback"]]);
  });

  it("a PROMOTION that copies a held value back is refused like a release", async () => {
    const [good] = await historyRevisions(t, jane, "demo", "globex", "production", 1);
    const tag = uniqueTag("v5");
    await mustDeploy(t, jane, { tenant: "globex", environment: "staging", service: "worker", set: { "image.tag": tag } });
    await mustDeploy(t, jane, { tenant: "globex", environment: "production", service: "worker", source: "PROMOTION", fromEnvironment: "staging" });
    const open = await t.ok<{ openBreakGlassSession: { id: string } }>(
      jane,
      `mutation { openBreakGlassSession(project: "demo", justification: "worker down", durationMinutes: 5) { id } }`,
    );
    const done = await mustRequest(t, jane, {
      tenant: "globex",
      environment: "production",
      mode: "SERVICE",
      service: "worker",
      targetSha: good!,
      justification: "worker crash loop",
    });
    expect(done.state).toBe("COMPLETED");
    await t.ok(jane, `mutation($id: ID!) { closeBreakGlassSession(id: $id) { id } }`, { id: open.openBreakGlassSession.id });
    const refused = await tryDeploy(t, jane, { tenant: "globex", environment: "production", service: "worker", source: "PROMOTION", fromEnvironment: "staging" });
    expectError(refused, "CONFLICT", 409, new RegExp(`^deployment re-introduces values held after rollback ${done.id}: .*worker image\\.tag = ${tag.replace(/\./g, "\\.")}`));
  });

  it("releaseDeploymentHold: APPROVER and above with a justification; the value then deploys", async () => {
    const [good] = await historyRevisions(t, jane, "demo", "acme", "dev", 1);
    const tag = uniqueTag("v4");
    await mustDeploy(t, jane, { tenant: "acme", environment: "dev", service: "web", set: { "image.tag": tag } });
    const done = await mustRequest(t, jane, { environment: "dev", mode: "SERVICE", service: "web", targetSha: good!, justification: "web broke" });
    const [hold] = (await holdsOf(t, "acme", "dev")).filter((h) => h.rollbackRequest.id === done.id);
    expect(hold).toBeDefined();

    expectError(await releaseHold(t, jane, hold!.id, "I want it"), "FORBIDDEN", 403, /APPROVER or higher/);
    expectError(await releaseHold(t, tokenOf(t, "victor"), hold!.id, "me too"), "FORBIDDEN", 403);
    expectError(await releaseHold(t, tokenOf(t, "mallory"), hold!.id, "outsider"), "NOT_FOUND", 404, `deployment hold "${hold!.id}" not found`);
    expectError(await releaseHold(t, bob, "hold_doesnotexist", "x"), "NOT_FOUND", 404);
    expectError(await releaseHold(t, bob, hold!.id, "   "), "BAD_USER_INPUT", 400, /^justification is required/);
    expectError(await releaseHold(t, bob, hold!.id, "x".repeat(2001)), "BAD_USER_INPUT", 400, "justification must be at most 2000 characters, got 2001");
    expectError(await releaseHold(t, bob, hold!.id, "bad\u0007bell"), "BAD_USER_INPUT", 400, "justification must not contain control characters");

    const released = await releaseHold(t, bob, hold!.id, "root cause fixed in the image build");
    expect(released.data?.releaseDeploymentHold).toMatchObject({
      id: hold!.id,
      releaseKind: "MANUAL",
      releasedBy: { email: "bob@example.com" },
      releaseJustification: "root cause fixed in the image build",
    });
    // Releasing again answers the released hold as it is.
    expect((await releaseHold(t, tokenOf(t, "alice"), hold!.id, "again")).data?.releaseDeploymentHold).toMatchObject({ releasedBy: { email: "bob@example.com" } });
    expect((await auditOf(t, hold!.id)).map((e) => [e.action, e.actor?.email, e.details.justification])).toEqual([
      ["hold.released", "bob@example.com", "root cause fixed in the image build"],
    ]);
    await mustDeploy(t, jane, { tenant: "acme", environment: "dev", service: "web", set: { "image.tag": tag } });

    // node(id) resolves a hold for those who can see its project, and nobody else.
    const node = `query($id: ID!) { node(id: $id) { id ... on DeploymentHold { field heldValue releaseKind } } }`;
    expect((await t.ok<{ node: unknown }>(tokenOf(t, "victor"), node, { id: hold!.id })).node).toEqual({ id: hold!.id, field: "image.tag", heldValue: tag, releaseKind: "MANUAL" });
    expect((await t.ok<{ node: unknown }>(tokenOf(t, "mallory"), node, { id: hold!.id })).node).toBeNull();
  });
});
