import { existsSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ENVIRONMENTS, TENANTS } from "./demo.js";
import type { TestServer } from "./server.js";

/**
 * What a project's bare repository holds, read with the git command line (never with the
 * product's own Git code). The project comes last and defaults to "demo".
 */

export function head(t: TestServer, project = "demo"): string {
  return t.git(project, "rev-parse", "refs/heads/main").trim();
}

export function parentOf(t: TestServer, sha: string, project = "demo"): string {
  return t.git(project, "rev-parse", `${sha}~1`).trim();
}

/** Object id of a file or directory at a revision (equal ids: equal content, byte for byte); "" when absent. */
export function entryId(t: TestServer, revision: string, entryPath: string, project = "demo"): string {
  try {
    return t.git(project, "rev-parse", `${revision}:${entryPath}`).trim();
  } catch {
    return "";
  }
}

/** A file's content at a revision, or null when it does not exist there. */
export function fileOrNull(t: TestServer, revision: string, file: string, project = "demo"): string | null {
  const listed = t.git(project, "ls-tree", revision, "--", file).trim();
  if (listed === "") return null;
  return t.git(project, "cat-file", "blob", `${revision}:${file}`);
}

/** A file's content at a revision; fails when it does not exist there. */
export function fileAt(t: TestServer, revision: string, file: string, project = "demo"): string {
  return t.git(project, "show", `${revision}:${file}`);
}

/** The commit message as `git show %B` prints it, trailing newlines dropped. */
export function commitMessage(t: TestServer, revision: string, project = "demo"): string {
  return t.git(project, "show", "-s", "--format=%B", revision).replace(/\n+$/, "");
}

/** The raw commit message, byte for byte. */
export function rawCommitMessage(t: TestServer, sha: string, project = "demo"): string {
  const raw = t.git(project, "cat-file", "commit", sha);
  return raw.slice(raw.indexOf("\n\n") + 2);
}

/** Trailers (`Key: Value` lines of the last paragraph) of a commit message. */
export function trailersOf(message: string): Record<string, string> {
  const paragraphs = message.trim().split(/\n\s*\n/);
  const out: Record<string, string> = {};
  for (const line of paragraphs[paragraphs.length - 1]!.split("\n")) {
    const m = /^([A-Za-z][A-Za-z0-9 -]*):\s?(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Paths that differ between two revisions, sorted. */
export function changedPaths(t: TestServer, from: string, to: string, project = "demo"): string[] {
  return t.git(project, "diff", "--name-only", from, to).split("\n").filter(Boolean).sort();
}

/** Paths a commit changed against its first parent, sorted (no rename detection). */
export function commitPaths(t: TestServer, sha: string, project = "demo"): string[] {
  return t.git(project, "diff-tree", "--no-commit-id", "-r", "--name-only", sha).split("\n").filter(Boolean).sort();
}

/** Path -> ADDED/REMOVED/MODIFIED of a commit against its first parent. */
export function changedKinds(t: TestServer, sha: string, project = "demo"): Record<string, string> {
  const kinds: Record<string, string> = { A: "ADDED", D: "REMOVED", M: "MODIFIED" };
  const out: Record<string, string> = {};
  for (const line of t.git(project, "diff-tree", "--no-commit-id", "-r", "--name-status", "--no-renames", sha).split("\n").filter(Boolean)) {
    const [status, file] = line.split("\t");
    out[file!] = kinds[status!] ?? status!;
  }
  return out;
}

/** The `-` and `+` lines of a file's diff in one commit (headers excluded). */
export function diffLines(t: TestServer, sha: string, file: string, project = "demo"): { removed: string[]; added: string[] } {
  const lines = t.git(project, "diff", "--no-color", "-U0", `${sha}~1`, sha, "--", file).split("\n");
  return {
    removed: lines.filter((l) => l.startsWith("-") && !l.startsWith("--- ")).map((l) => l.slice(1)),
    added: lines.filter((l) => l.startsWith("+") && !l.startsWith("+++ ")).map((l) => l.slice(1)),
  };
}

/** Blob id of every file below `dir` at `revision`. */
export function blobIds(t: TestServer, revision: string, dir = "tenants", project = "demo"): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of t.git(project, "ls-tree", "-r", revision, "--", dir).split("\n").filter(Boolean)) {
    const [meta, file] = line.split("\t");
    out.set(file!, meta!.split(" ")[2]!);
  }
  return out;
}

export function isAncestor(t: TestServer, ancestor: string, descendant: string, project = "demo"): boolean {
  try {
    t.git(project, "merge-base", "--is-ancestor", ancestor, descendant);
    return true;
  } catch {
    return false;
  }
}

export function commitCount(t: TestServer, project = "demo"): number {
  return Number(t.git(project, "rev-list", "--count", "refs/heads/main").trim());
}

/** Tree ids of every demo tenant-environment directory at a revision. */
export function tenantEnvironmentTrees(t: TestServer, revision: string, project = "demo"): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tenant of TENANTS) for (const env of ENVIRONMENTS) out[`${tenant}/${env}`] = entryId(t, revision, `tenants/${tenant}/${env}`, project);
  return out;
}

/** Commits on main whose message carries this rollback request id. */
export function commitsOf(t: TestServer, requestId: string, project = "demo"): string[] {
  return t.git(project, "log", "--format=%H", "--fixed-strings", `--grep=Rollback Request ID: ${requestId}`, "refs/heads/main").split("\n").filter(Boolean);
}

/** Makes every branch update fail, as a Git write failure during execution would. */
export function lockBranch(t: TestServer, project = "demo"): string {
  const lock = path.join(t.repoPath(project), "refs", "heads", "main.lock");
  writeFileSync(lock, "");
  return lock;
}

export function unlockBranch(t: TestServer, project = "demo"): void {
  const lock = path.join(t.repoPath(project), "refs", "heads", "main.lock");
  if (existsSync(lock)) rmSync(lock);
}
