import { describe, expect, it } from "vitest";
import { DeploymentSource, RollbackMode } from "../../../entities/enums.js";
import type { CommitInfo } from "../../../src/git/git-store.js";
import { deployMessage, parseDeploymentCommit, parseTrailers, rollbackMessage } from "../../../src/history/commit-message.js";

const info = (message: string): CommitInfo => ({
  sha: "a".repeat(40),
  tree: "b".repeat(40),
  parents: [],
  message,
  authorName: "Jane Doe",
  authorEmail: "git-author@example.com",
  date: new Date(0),
});

describe("commit messages", () => {
  it("writes a rollback in exactly the spec's format, one trailer per line", () => {
    const message = rollbackMessage({
      tenant: "acme",
      environment: "production",
      targetSha: "0123456789abcdef0123456789abcdef01234567",
      mode: RollbackMode.FIELD,
      service: "api-gateway",
      fields: ["image.tag", "variables:LOG_LEVEL"],
      justification: "bad tag\n  since 14:02",
      author: "jane@example.com",
      approval: "Approved by bob@example.com (quorum: 1/1)",
      requestId: "rbk-abc",
    });
    expect(message).toBe(
      [
        "Rollback: tenant/acme env/production → revision 0123456",
        "",
        "Mode: field",
        "Service: api-gateway",
        "Fields: image.tag, variables:LOG_LEVEL",
        "Justification: bad tag since 14:02",
        "Author: jane@example.com",
        "Approval: Approved by bob@example.com (quorum: 1/1)",
        "Rollback Request ID: rbk-abc",
        "",
      ].join("\n"),
    );
  });

  it("names the service only for SERVICE and FIELD, the fields only for FIELD", () => {
    const base = {
      tenant: "t",
      environment: "e",
      targetSha: "b".repeat(40),
      service: "web",
      fields: ["replicas"],
      justification: "j",
      author: "a@example.com",
      approval: "Not required",
      requestId: "rbk-1",
    };
    const full = parseTrailers(rollbackMessage({ ...base, mode: RollbackMode.FULL }));
    expect([...full.keys()]).toEqual(["Mode", "Justification", "Author", "Approval", "Rollback Request ID"]);
    const service = parseTrailers(rollbackMessage({ ...base, mode: RollbackMode.SERVICE }));
    expect([...service.keys()]).toEqual(["Mode", "Service", "Justification", "Author", "Approval", "Rollback Request ID"]);
  });

  it("reads a rollback commit back into the deployment it records", () => {
    const message = rollbackMessage({
      tenant: "acme",
      environment: "dev",
      targetSha: "c".repeat(40),
      mode: RollbackMode.SERVICE,
      service: "web",
      justification: "j",
      author: "jane@example.com",
      approval: "Not required",
      requestId: "rbk-2",
    });
    expect(parseDeploymentCommit(info(message))).toEqual({
      tenant: "acme",
      environment: "dev",
      source: DeploymentSource.ROLLBACK,
      authorEmail: "jane@example.com",
      summary: `Rollback: tenant/acme env/dev → revision ${"c".repeat(7)}`,
      requestId: "rbk-2",
      mode: RollbackMode.SERVICE,
      service: "web",
      fields: [],
      targetShort: "c".repeat(7),
    });
  });

  it("writes and reads back a release and a promotion", () => {
    const release = deployMessage({ summary: "Release web", tenant: "acme", environment: "dev", service: "web", source: DeploymentSource.RELEASE, author: "jane@example.com" });
    expect(release).toBe("Release web\n\nTenant: acme\nEnvironment: dev\nService: web\nSource: release\nAuthor: jane@example.com\n");
    expect(parseDeploymentCommit(info(release))).toMatchObject({
      tenant: "acme",
      environment: "dev",
      source: DeploymentSource.RELEASE,
      authorEmail: "jane@example.com",
      summary: "Release web",
      requestId: null,
    });
    const promotion = deployMessage({
      summary: "Promote\nweb",
      tenant: "acme",
      environment: "staging",
      service: "web",
      source: DeploymentSource.PROMOTION,
      author: "bob@example.com",
      fromEnvironment: "dev",
    });
    expect(parseTrailers(promotion).get("Promoted-From")).toBe("dev");
    expect(promotion.split("\n")[0]).toBe("Promote web");
    expect(parseDeploymentCommit(info(promotion))).toMatchObject({ source: DeploymentSource.PROMOTION, service: "web" });
  });

  it("ignores commits that are not deployments of this server", () => {
    expect(parseDeploymentCommit(info("Fix a typo\n"))).toBeNull();
    expect(parseDeploymentCommit(info("Something\n\nTenant: acme\nEnvironment: dev\nSource: hotfix\n"))).toBeNull();
    // A rollback subject without the request id trailer is not one of ours either.
    expect(parseDeploymentCommit(info(`Rollback: tenant/acme env/dev → revision ${"d".repeat(7)}\n\nMode: full\n`))).toBeNull();
    expect(parseTrailers("only a subject")).toEqual(new Map());
  });
});
