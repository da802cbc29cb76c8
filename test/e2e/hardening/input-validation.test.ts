import { beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { commitCount, head, rawCommitMessage, trailersOf } from "../../helpers/git.js";
import { currentRevision, DEPLOY, OPEN_BREAK_GLASS, previewRollback, recentDeployments, REPORT_SYNC, requestRollback, rollbackInput, uniqueTag } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";

/**
 * One validation layer for every string argument: control characters, lengths by class, the keys
 * and values of JSON arguments and the depth of field paths are refused with BAD_USER_INPUT
 * naming the argument, before anything reaches Git, YAML or the database.
 */
describe("hostile strings never reach Git or YAML", () => {
  const t = useTestServer();
  let jane: string, alice: string;
  let target: string;

  beforeAll(async () => {
    [jane, alice] = [tokenOf(t, "jane"), tokenOf(t, "alice")];
    target = (await recentDeployments(t, jane, "acme", "staging"))[3]!.revision;
  });

  /** Runs `attempt` and checks that the repository did not move. */
  async function unchanged<T>(attempt: () => Promise<T>): Promise<T> {
    const before = head(t);
    const count = commitCount(t);
    const result = await attempt();
    expect(head(t)).toBe(before);
    expect(commitCount(t)).toBe(count);
    return result;
  }

  it("refuses a NUL in a justification, naming input.justification, and writes nothing", async () => {
    const res = await unchanged(() => requestRollback(t, jane, rollbackInput({ environment: "staging", targetSha: target, justification: "ok\u0000Author: nobody" })));
    expectError(res, "BAD_USER_INPUT", 400, "input.justification must not contain control characters");
  });

  it("refuses NUL in a deployment's summary and in the values and keys of `set`", async () => {
    const base = { project: "demo", tenant: "acme", environment: "dev", service: "api-gateway", source: "RELEASE" };
    const summary = await unchanged(() => t.gql(jane, DEPLOY, { input: { ...base, set: { "image.tag": uniqueTag() }, summary: "\u0000" } }));
    expectError(summary, "BAD_USER_INPUT", 400, "input.summary must not contain control characters");
    const value = await unchanged(() => t.gql(jane, DEPLOY, { input: { ...base, set: { "image.tag": "v\u0000evil" } } }));
    expectError(value, "BAD_USER_INPUT", 400, 'input.set["image.tag"] must not contain control characters or line breaks');
    const trailer = await unchanged(() => t.gql(jane, DEPLOY, { input: { ...base, set: { "image.tag": "v1\nApproval: forged" } } }));
    expectError(trailer, "BAD_USER_INPUT", 400, 'input.set["image.tag"] must not contain control characters or line breaks');
    const key = await unchanged(() => t.gql(jane, DEPLOY, { input: { ...base, set: { "image\u0000.tag": "v1" } } }));
    expectError(key, "BAD_USER_INPUT", 400, /^input\.set key "image\\u0000\.tag" must not contain control characters/);
  });

  it("says BAD_USER_INPUT for a service name with a NUL, not 'nothing to roll back'", async () => {
    const res = await previewRollback(t, jane, rollbackInput({ environment: "staging", mode: "SERVICE", service: "api-gateway\u0000garbage", targetSha: target }));
    expectError(res, "BAD_USER_INPUT", 400, "input.service must not contain control characters or line breaks");
    const tenant = await previewRollback(t, jane, rollbackInput({ tenant: "acme\u0007", environment: "staging", targetSha: target }));
    expectError(tenant, "BAD_USER_INPUT", 400, "input.tenant must not contain control characters or line breaks");
    const sha = await previewRollback(t, jane, rollbackInput({ environment: "staging", targetSha: `${target}\u0000` }));
    expectError(sha, "BAD_USER_INPUT", 400, "input.targetSha must not contain control characters or line breaks");
  });

  it("bounds justifications, summaries, break-glass justifications and health strings", async () => {
    const huge = "x".repeat(900 * 1024);
    const justification = await unchanged(() => requestRollback(t, jane, rollbackInput({ environment: "staging", targetSha: target, justification: huge })));
    expectError(justification, "BAD_USER_INPUT", 400, `input.justification must be at most 2000 characters, got ${huge.length}`);

    const summary = await unchanged(() =>
      t.gql(jane, DEPLOY, {
        input: { project: "demo", tenant: "acme", environment: "dev", service: "api-gateway", source: "RELEASE", set: { "image.tag": uniqueTag() }, summary: huge },
      }),
    );
    expectError(summary, "BAD_USER_INPUT", 400, `input.summary must be at most 2000 characters, got ${huge.length}`);

    const breakGlass = await t.gql(jane, OPEN_BREAK_GLASS, { p: "demo", j: huge, m: 5 });
    expectError(breakGlass, "BAD_USER_INPUT", 400, `justification must be at most 2000 characters, got ${huge.length}`);

    const revision = await currentRevision(t, "acme", "dev");
    const health = await t.gql(alice, REPORT_SYNC, { i: { project: "demo", tenant: "acme", environment: "dev", revision, state: "SYNCED", health: huge } });
    expectError(health, "BAD_USER_INPUT", 400, `input.health must be at most 200 characters, got ${huge.length}`);
    const name = await t.gql(jane, `query($s: String!) { project(slug: $s) { id } }`, { s: "d".repeat(201) });
    expectError(name, "BAD_USER_INPUT", 400, "slug must be at most 200 characters, got 201");
  });

  it("refuses a `set` path of 5,001 segments with BAD_USER_INPUT naming the depth limit, before the YAML library", async () => {
    const deep = Array.from({ length: 5001 }, () => "a").join(".");
    const base = { project: "demo", tenant: "acme", environment: "dev", service: "api-gateway", source: "RELEASE" };
    const res = await unchanged(() => t.gql(jane, DEPLOY, { input: { ...base, set: { [deep]: 1 } } }));
    expectError(res, "BAD_USER_INPUT", 400, /^input\.set key "a\.a\.a.*": a field path has at most 32 segments, got 5001$/);
    const nested = await unchanged(() => t.gql(jane, DEPLOY, { input: { ...base, set: { "image.tag": JSON.parse(`${"[".repeat(100)}1${"]".repeat(100)}`) as unknown } } }));
    expectError(nested, "BAD_USER_INPUT", 400, "input.set is nested more than 32 levels deep");
    const fields = await previewRollback(
      t,
      jane,
      rollbackInput({ environment: "staging", mode: "FIELD", service: "api-gateway", fields: [Array.from({ length: 33 }, () => "a").join(".")], targetSha: target }),
    );
    expectError(fields, "BAD_USER_INPUT", 400, "input.fields[0]: a field path has at most 32 segments, got 33");
  });

  it("still takes newlines and tabs in free text, folded into the commit message with its trailers intact", async () => {
    const res = await requestRollback(
      t,
      jane,
      rollbackInput({ environment: "dev", targetSha: (await recentDeployments(t, jane, "acme", "dev"))[2]!.revision, justification: "line one\n\tline two" }),
    );
    expect(res.errors).toBeUndefined();
    const request = res.data!.requestRollback as { commitSha: string | null; id: string };
    if (request.commitSha) {
      const trailers = trailersOf(rawCommitMessage(t, request.commitSha));
      expect(trailers["Rollback Request ID"]).toBe(request.id);
    }
  });

  it("refuses control characters in webhook urls and secrets through the same rules", async () => {
    const create = `mutation($u: String!, $s: String!) { createWebhook(project: "demo", url: $u, secret: $s, events: [GIT_PUSH]) { id } }`;
    expectError(
      await t.gql(alice, create, { u: "https://example.com/\u0000hook", s: "secret-secret" }),
      "BAD_USER_INPUT",
      400,
      "url must not contain control characters or line breaks",
    );
    expectError(
      await t.gql(alice, create, { u: "https://example.com/hook", s: "sec\u0000ret" }),
      "BAD_USER_INPUT",
      400,
      "secret must not contain control characters or line breaks",
    );
  });
});
