import { beforeAll, describe, expect, it } from "vitest";
import { expectError, expectNoInternals } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { type DeploymentView, fullHistory, previewRollback, requestRollback, rollbackInput, writeState } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";

/** requestRollback and previewRollback refuse bad input with the spec's codes and exact messages, writing nothing. */
describe("requestRollback input errors", () => {
  const t = useTestServer();
  let jane: string;
  let staging: DeploymentView[];
  let globexStaging: DeploymentView[];

  beforeAll(async () => {
    jane = tokenOf(t, "jane");
    staging = await fullHistory(t, jane, "acme", "staging");
    globexStaging = await fullHistory(t, jane, "globex", "staging");
  });

  const full = (extra: Record<string, unknown> = {}) => ({
    ...rollbackInput({ environment: "staging", targetSha: staging[5]!.revision, justification: "api-gateway returns 500s since the last promotion" }),
    ...extra,
  });

  it('refuses a missing targetSha with exactly "targetSha is required" (BAD_USER_INPUT 400) and writes nothing', async () => {
    const before = await writeState(t);
    const { targetSha: _omit, ...input } = full();
    expectError(await requestRollback(t, jane, input), "BAD_USER_INPUT", 400, "targetSha is required");
    expect(await writeState(t)).toEqual(before);
  });

  it('refuses a null, empty or blank targetSha with exactly "targetSha is required"', async () => {
    for (const targetSha of [null, "", "   "]) {
      expectError(await requestRollback(t, jane, full({ targetSha })), "BAD_USER_INPUT", 400, "targetSha is required");
    }
  });

  it('answers "targetSha is required" to previewRollback too', async () => {
    expectError(await previewRollback(t, jane, full({ targetSha: "" })), "BAD_USER_INPUT", 400, "targetSha is required");
    const { targetSha: _omit, ...input } = full();
    expectError(await previewRollback(t, jane, input), "BAD_USER_INPUT", 400, "targetSha is required");
  });

  it("refuses a deployment of another tenant-environment as target (BAD_USER_INPUT 400, Invalid target revision) and writes nothing", async () => {
    const before = await writeState(t);
    const foreign = globexStaging.find((d) => !staging.some((s) => s.revision === d.revision))!;
    const error = expectError(await requestRollback(t, jane, full({ targetSha: foreign.revision })), "BAD_USER_INPUT", 400, /Invalid target revision/);
    expect(error.message).toContain(foreign.revision.slice(0, 7));
    expect(await writeState(t)).toEqual(before);
  });

  it("refuses a sha that is no commit at all and one that is not hexadecimal, writing nothing", async () => {
    const before = await writeState(t);
    for (const targetSha of ["0123456789abcdef0123456789abcdef01234567", "abc1234", "HEAD~3", "main"]) {
      expectError(await requestRollback(t, jane, full({ targetSha })), "BAD_USER_INPUT", 400, /Invalid target revision/);
    }
    expect(await writeState(t)).toEqual(before);
  });

  it("refuses an invalid target in previewRollback with the same error", async () => {
    const foreign = globexStaging[0]!.revision;
    expectError(await previewRollback(t, jane, full({ targetSha: foreign })), "BAD_USER_INPUT", 400, /Invalid target revision/);
  });

  it("refuses a missing justification with BAD_USER_INPUT 400 and writes nothing", async () => {
    const before = await writeState(t);
    const { justification: _omit, ...input } = full();
    const error = expectError(await requestRollback(t, jane, input), "BAD_USER_INPUT", 400);
    expect(error.message).toMatch(/justification/i);
    expect(await writeState(t)).toEqual(before);
  });

  it("refuses an empty or blank justification with BAD_USER_INPUT 400", async () => {
    for (const justification of ["", "  \n "]) {
      const error = expectError(await requestRollback(t, jane, full({ justification })), "BAD_USER_INPUT", 400);
      expect(error.message).toMatch(/justification/i);
    }
  });

  it("answers NOT_FOUND 404 for an unknown project, naming it, and writes nothing", async () => {
    const before = await writeState(t);
    const error = expectError(await requestRollback(t, jane, full({ project: "no-such-project" })), "NOT_FOUND", 404);
    expect(error.message).toContain("no-such-project");
    expect(await writeState(t)).toEqual(before);
  });

  it("answers NOT_FOUND 404 for an unknown tenant, naming it", async () => {
    const error = expectError(await requestRollback(t, jane, full({ tenant: "initech" })), "NOT_FOUND", 404);
    expect(error.message).toContain("initech");
  });

  it("answers NOT_FOUND 404 for an unknown environment, naming it", async () => {
    const error = expectError(await requestRollback(t, jane, full({ environment: "qa" })), "NOT_FOUND", 404);
    expect(error.message).toContain("qa");
  });

  it("refuses service or fields in FULL mode as malformed input (BAD_USER_INPUT 400)", async () => {
    expectError(await requestRollback(t, jane, full({ service: "web" })), "BAD_USER_INPUT", 400);
  });

  it("refuses a mode that does not exist as malformed input (400)", async () => {
    const res = await requestRollback(t, jane, full({ mode: "EVERYTHING" }));
    expect(res.errors?.[0]?.extensions?.status).toBe(400);
    expectNoInternals(res);
  });

  it("refuses a request missing required input fields as malformed input (400)", async () => {
    const res = await requestRollback(t, jane, { tenant: "acme", environment: "staging", mode: "FULL", targetSha: staging[3]!.revision, justification: "x" });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", status: 400 });
    expectNoInternals(res);
  });
});
