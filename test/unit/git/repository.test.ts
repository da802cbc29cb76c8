import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitConflictError, GitStoreError, NothingToCommitError } from "../../../src/git/errors.js";
import type { ProjectRepository } from "../../../src/git/git-store.js";
import { NodegitStore } from "../../../src/git/nodegit-store.js";

const author = { name: "Test", email: "test@example.com" };

describe("the libgit2 repository", () => {
  let root: string;
  let repo: ProjectRepository;
  let first: string;

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), "rbs-unit-git-"));
    repo = await new NodegitStore({ root }).open("unit");
    first = (
      await repo.commit({
        base: null,
        writes: [
          { type: "file", path: "tenants/acme/dev/services/web/values.yaml", content: "replicas: 1\n" },
          { type: "file", path: "tenants/acme/dev/env.yaml", content: "cluster: dev\n" },
        ],
        message: "first",
        author,
      })
    ).sha;
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("reads back what it committed, by path and by the blob ids a diff names", async () => {
    expect(await repo.head()).toBe(first);
    expect((await repo.readFile(first, "tenants/acme/dev/env.yaml"))?.toString()).toBe("cluster: dev\n");
    expect(await repo.readFile(first, "tenants/acme/dev/missing.yaml")).toBeNull();
    const changed = await repo.changedFiles(null, first, "tenants/acme/dev");
    expect(changed.map((c) => [c.path, c.status])).toEqual([
      ["env.yaml", "ADDED"],
      ["services/web/values.yaml", "ADDED"],
    ]);
    expect((await repo.readBlob(changed[1]!.after!)).toString()).toBe("replicas: 1\n");
    expect((await repo.commitInfo(first)).message).toBe("first\n");
  });

  it("hands concurrent readers of one blob the same bytes from a single load", async () => {
    const base = await repo.head();
    const { sha } = await repo.commit({ base, writes: [{ type: "file", path: "tenants/acme/dev/notes.txt", content: "never read before\n" }], message: "notes", author });
    const [change] = await repo.changedFiles(base, sha, "tenants/acme/dev");
    const reads = await Promise.all([repo.readBlob(change!.after!), repo.readBlob(change!.after!), repo.readBlob(change!.after!)]);
    // One load: every reader gets the one cached Buffer (the comparisons' parse cache is keyed by it).
    expect(reads[1]).toBe(reads[0]);
    expect(reads[2]).toBe(reads[0]);
    expect(await repo.readBlob(change!.after!)).toBe(reads[0]);
  });

  it("applies writes on a moved branch unless a guarded path changed, and refuses writes that change nothing", async () => {
    const start = (await repo.head())!;
    const second = await repo.commit({ base: start, writes: [{ type: "file", path: "tenants/acme/dev/env.yaml", content: "cluster: dev-2\n" }], message: "second", author });
    expect(second).toMatchObject({ parent: start, rebased: false });
    // Written against `start`: env.yaml moved since, but only values.yaml is guarded.
    const third = await repo.commit({
      base: start,
      writes: [{ type: "file", path: "tenants/acme/dev/services/web/values.yaml", content: "replicas: 2\n" }],
      message: "third",
      author,
    });
    expect(third).toMatchObject({ parent: second.sha, rebased: true });
    await expect(
      repo.commit({ base: start, writes: [{ type: "file", path: "tenants/acme/dev/env.yaml", content: "cluster: other\n" }], message: "stale", author }),
    ).rejects.toBeInstanceOf(GitConflictError);
    await expect(
      repo.commit({ base: third.sha, writes: [{ type: "file", path: "tenants/acme/dev/env.yaml", content: "cluster: dev-2\n" }], message: "same", author }),
    ).rejects.toBeInstanceOf(NothingToCommitError);
  });

  it("reports a failure of libgit2 as GitStoreError, naming no path of this machine", async () => {
    const base = await repo.head();
    const lock = path.join(repo.path, "refs", "heads", "main.lock");
    writeFileSync(lock, "");
    try {
      const failure = await repo
        .commit({ base, writes: [{ type: "file", path: "tenants/acme/dev/env.yaml", content: "cluster: locked\n" }], message: "locked", author })
        .catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(GitStoreError);
      expect((failure as Error).message).toContain("refs/heads/main.lock");
      expect((failure as Error).message).not.toContain(root);
    } finally {
      rmSync(lock);
    }
    expect(await repo.head()).toBe(base);
  });
});
