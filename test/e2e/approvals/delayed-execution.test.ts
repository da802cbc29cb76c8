import { beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { commitsOf, entryId, fileAt, head } from "../../helpers/git.js";
import { badRelease, deploy, getRequest, mustRequest, mustReview, review, uniqueTag } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";

/**
 * Delayed execution: a request remembers its base; if, by the time it is approved, newer commits
 * changed what it would write, it fails with CONFLICT and writes nothing. Changes elsewhere never
 * block it, and it applies on top of the newest head.
 */
describe("conflicts on delayed execution", () => {
  const t = useTestServer();
  let jane: string, bob: string;

  beforeAll(async () => {
    jane = tokenOf(t, "jane");
    bob = tokenOf(t, "bob");
  });

  type Mode = "FULL" | "SERVICE" | "FIELD";
  interface Case {
    name: string;
    mode: Mode;
    /** The later deploy, made while the request waits. */
    later: { tenant: string; service: string; field: string };
    conflict: boolean;
  }

  const CASES: Case[] = [
    { name: "FULL, same tenant-environment (another service)", mode: "FULL", later: { tenant: "acme", service: "web", field: "replicas" }, conflict: true },
    { name: "FULL, another tenant", mode: "FULL", later: { tenant: "globex", service: "api-gateway", field: "image.tag" }, conflict: false },
    { name: "SERVICE, same service (another field)", mode: "SERVICE", later: { tenant: "acme", service: "api-gateway", field: "replicas" }, conflict: true },
    { name: "SERVICE, another service", mode: "SERVICE", later: { tenant: "acme", service: "web", field: "image.tag" }, conflict: false },
    { name: "FIELD, the selected field", mode: "FIELD", later: { tenant: "acme", service: "api-gateway", field: "image.tag" }, conflict: true },
    { name: "FIELD, another field of the same service", mode: "FIELD", later: { tenant: "acme", service: "api-gateway", field: "replicas" }, conflict: false },
    { name: "FIELD, another service", mode: "FIELD", later: { tenant: "acme", service: "web", field: "image.tag" }, conflict: false },
  ];

  const laterValue = (field: string): unknown => (field === "replicas" ? 2 + Math.floor(Math.random() * 1000) + 10 : uniqueTag("v7"));

  it.each(CASES)("$name: conflict=$conflict", async (c) => {
    const { good, bad } = await badRelease(t); // acme/production api-gateway image.tag
    const input = {
      mode: c.mode,
      targetSha: good,
      ...(c.mode !== "FULL" ? { service: "api-gateway" } : {}),
      ...(c.mode === "FIELD" ? { fields: ["image.tag"] } : {}),
    };
    const pending = await mustRequest(t, jane, input);
    expect(pending).toMatchObject({ state: "PENDING", baseSha: bad, mode: c.mode });

    const value = laterValue(c.later.field);
    const later = (await deploy(t, jane, { tenant: c.later.tenant, environment: "production", service: c.later.service, set: { [c.later.field]: value } })).revision;
    expect(head(t)).toBe(later);

    const res = await review(t, bob, pending.id, "APPROVE");
    if (c.conflict) {
      const err = expectError(res, "CONFLICT", 409);
      expect(err.message).toContain(bad.slice(0, 7));
      expect(err.message).toContain(later.slice(0, 7));
      const failed = await getRequest(t, jane, pending.id);
      expect(failed).toMatchObject({ state: "FAILED", approvals: 1, commitSha: null });
      expect(failed.error).toContain(bad.slice(0, 7));
      expect(failed.error).toContain(later.slice(0, 7));
      // Nothing written: the head is still the later deploy, and no commit carries the request.
      expect(head(t)).toBe(later);
      expect(commitsOf(t, pending.id)).toEqual([]);
      return;
    }

    expect(res.errors).toBeUndefined();
    const done = res.data!.reviewRollbackRequest;
    expect(done.state).toBe("COMPLETED");
    expect(done.commitSha).toBe(head(t));
    // Applied on top of the newest head, keeping the later change.
    expect(t.git("demo", "rev-parse", `${done.commitSha}^`).trim()).toBe(later);
    const sha = done.commitSha!;
    const dir = "tenants/acme/production";
    const laterDir = `tenants/${c.later.tenant}/production`;
    if (c.mode === "FULL") {
      expect(entryId(t, sha, dir)).toBe(entryId(t, good, dir));
      expect(entryId(t, sha, laterDir)).toBe(entryId(t, later, laterDir));
    } else if (c.mode === "SERVICE") {
      expect(entryId(t, sha, `${dir}/services/api-gateway`)).toBe(entryId(t, good, `${dir}/services/api-gateway`));
      expect(entryId(t, sha, `${dir}/rendered/api-gateway.yaml`)).toBe(entryId(t, good, `${dir}/rendered/api-gateway.yaml`));
      expect(entryId(t, sha, `${dir}/services/${c.later.service}`)).toBe(entryId(t, later, `${dir}/services/${c.later.service}`));
    } else {
      const tagOf = (text: string) => /^\s+tag: "?([^"\n]+)"?$/m.exec(text)?.[1];
      const values = fileAt(t, sha, `${dir}/services/api-gateway/values.yaml`);
      expect(tagOf(values)).toBe(tagOf(fileAt(t, good, `${dir}/services/api-gateway/values.yaml`)));
      expect(tagOf(values)).not.toBe(tagOf(fileAt(t, bad, `${dir}/services/api-gateway/values.yaml`)));
      if (c.later.service === "api-gateway") expect(values).toMatch(new RegExp(`^replicas: ${String(value)}$`, "m"));
      else expect(entryId(t, sha, `${dir}/services/${c.later.service}`)).toBe(entryId(t, later, `${dir}/services/${c.later.service}`));
      expect(done.commitMessage).toContain("Mode: field\nService: api-gateway\nFields: image.tag\n");
    }
    expect(commitsOf(t, pending.id)).toEqual([sha]);
  });

  it("a request with no later changes at all executes on its own base", async () => {
    const { good, bad } = await badRelease(t);
    const pending = await mustRequest(t, jane, { mode: "SERVICE", service: "api-gateway", targetSha: good });
    const done = await mustReview(t, bob, pending.id, "APPROVE");
    expect(done.state).toBe("COMPLETED");
    expect(t.git("demo", "rev-parse", `${done.commitSha}^`).trim()).toBe(bad);
    expect(done.commitMessage).toContain("Mode: service\nService: api-gateway\n");
  });
});
