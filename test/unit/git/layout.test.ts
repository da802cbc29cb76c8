import { describe, expect, it } from "vitest";
import { classifyPath, isSlug, ownedBy, renderedFile, serviceDir, servicePaths, tenantDir } from "../../../src/git/layout.js";
import { withoutPaths } from "../../../src/git/errors.js";
import { pushStatus } from "../../../src/git/remote-sync-cli.js";

describe("repository layout", () => {
  it("builds the paths of a tenant-environment and of a service in it", () => {
    expect(tenantDir("acme", "production")).toBe("tenants/acme/production");
    expect(serviceDir("api-gateway")).toBe("services/api-gateway");
    expect(renderedFile("api-gateway")).toBe("rendered/api-gateway.yaml");
    expect(servicePaths("acme", "dev", "web")).toEqual({ dir: "tenants/acme/dev/services/web", rendered: "tenants/acme/dev/rendered/web.yaml" });
  });

  it("tells which service a path inside a tenant-environment belongs to", () => {
    expect(classifyPath("services/web/values.yaml")).toEqual({ service: "web", file: "values.yaml", rendered: false });
    expect(classifyPath("services/web/extra/config.json")).toEqual({ service: "web", file: "extra/config.json", rendered: false });
    expect(classifyPath("rendered/web.yaml")).toEqual({ service: "web", file: "rendered/web.yaml", rendered: true });
    expect(classifyPath("env.yaml")).toBeNull();
    expect(classifyPath("rendered/web.json")).toBeNull();
    expect(ownedBy("services/web/values.yaml", "web")).toBe(true);
    expect(ownedBy("rendered/web.yaml", "web")).toBe(true);
    expect(ownedBy("services/webhook/values.yaml", "web")).toBe(false);
    expect(ownedBy("rendered/web.yaml", "webhook")).toBe(false);
  });

  it("accepts lowercase slugs of 1 to 64 characters with inner dashes only", () => {
    for (const ok of ["a", "demo", "api-gateway", "x1-2", "a".repeat(64)]) expect(isSlug(ok), ok).toBe(true);
    for (const bad of ["", "-a", "a-", "Demo", "a_b", "a.b", "../x", "a/b", "a".repeat(65), "a b"]) expect(isSlug(bad), bad).toBe(false);
  });
});

describe("Git error messages", () => {
  it("cut paths of the data directory to their part inside the repository, or to their last segment", () => {
    expect(withoutPaths("failed to lock file '/data/repos/demo.git/refs/heads/main.lock' for writing")).toBe("failed to lock file 'refs/heads/main.lock' for writing");
    expect(withoutPaths("EACCES: permission denied, mkdir '/var/lib/rollback/repos'")).toBe("EACCES: permission denied, mkdir 'repos'");
    // A file:// remote is a path of this machine; other URLs stay, without their credentials; relative paths stay.
    expect(withoutPaths("error: failed to push some refs to 'file:///srv/git/demo.git'")).toBe("error: failed to push some refs to 'the remote'");
    expect(withoutPaths("could not read from https://x:tok3n@git.example.com/acme/demo.git")).toBe("could not read from https://git.example.com/acme/demo.git");
    expect(withoutPaths("branch moved and changed tenants/acme/dev")).toBe("branch moved and changed tenants/acme/dev");
  });
});

describe("git push --porcelain status", () => {
  const out = (line: string) => `To file:///srv/git/demo.git\n${line}\nDone\n`;

  it("finds the status line of the branch, whatever stderr says", () => {
    expect(pushStatus(out("!\tabc123:refs/heads/main\t[rejected] (stale info)"), "refs/heads/main")).toEqual({ flag: "!", summary: "[rejected] (stale info)" });
    expect(pushStatus(out("!\tHEAD:refs/heads/main\t[remote rejected] (failed to update ref)"), "refs/heads/main")).toEqual({
      flag: "!",
      summary: "[remote rejected] (failed to update ref)",
    });
    expect(pushStatus(out(" \tabc:refs/heads/main\t1111111..2222222"), "refs/heads/main")).toEqual({ flag: " ", summary: "1111111..2222222" });
    expect(pushStatus(out("!\tabc:refs/heads/other\t[rejected] (stale info)"), "refs/heads/main")).toBeNull();
    expect(pushStatus("", "refs/heads/main")).toBeNull();
  });
});
