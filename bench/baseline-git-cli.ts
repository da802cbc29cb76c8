import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * The git command-line baseline: the same rollback commit made with plumbing commands on the
 * same bare repository, through a temporary index file (GIT_INDEX_FILE), the way a shell script
 * or a CI job would do it: read-tree, rm --cached + read-tree --prefix, write-tree, commit-tree,
 * update-ref with the old value (compare-and-swap).
 */

export interface CliFile {
  path: string;
  content: Buffer;
}

export class GitCli {
  private readonly scratch: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(readonly repoPath: string) {
    this.scratch = mkdtempSync(path.join(tmpdir(), "rbs-bench-git-"));
    // read-tree --prefix insists on a work tree; an empty one that nothing ever checks out into.
    mkdirSync(path.join(this.scratch, "worktree"));
    this.env = {
      ...process.env,
      GIT_DIR: repoPath,
      GIT_INDEX_FILE: path.join(this.scratch, "index"),
      GIT_WORK_TREE: path.join(this.scratch, "worktree"),
      GIT_AUTHOR_NAME: "Bench",
      GIT_AUTHOR_EMAIL: "bench@example.com",
      GIT_COMMITTER_NAME: "Rollback Server",
      GIT_COMMITTER_EMAIL: "rollback-server@localhost",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_TERMINAL_PROMPT: "0",
    };
  }

  git(args: string[], input?: Buffer | string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile("git", args, { env: this.env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`git ${args.join(" ")} failed: ${stderr || err.message}`));
        else resolve(stdout.trim());
      });
      if (input !== undefined) child.stdin!.end(input);
    });
  }

  head(): Promise<string> {
    return this.git(["rev-parse", "refs/heads/main"]);
  }

  /** Makes each directory or file what it was at `target`, commits on the head, moves the branch. */
  async copyFrom(target: string, paths: { path: string; kind: "tree" | "blob" }[], message: string): Promise<string> {
    const head = await this.head();
    await this.git(["read-tree", head]);
    await this.git(["rm", "-r", "--cached", "-q", "--ignore-unmatch", "--", ...paths.map((p) => p.path)]);
    const blobs: string[] = [];
    for (const p of paths) {
      if (p.kind === "tree") await this.git(["read-tree", `--prefix=${p.path}/`, `${target}:${p.path}`]);
      else blobs.push(`100644,${await this.git(["rev-parse", `${target}:${p.path}`])},${p.path}`);
    }
    if (blobs.length > 0) await this.git(["update-index", "--add", ...blobs.flatMap((b) => ["--cacheinfo", b])]);
    return this.commit(head, message);
  }

  /** Writes each file as a blob, puts it in the index of the head, commits, moves the branch. */
  async writeFiles(files: CliFile[], message: string): Promise<string> {
    const head = await this.head();
    const ids: string[] = [];
    for (const f of files) ids.push(await this.git(["hash-object", "-w", "--stdin"], f.content));
    await this.git(["read-tree", head]);
    await this.git(["update-index", "--add", ...files.flatMap((f, i) => ["--cacheinfo", `100644,${ids[i]},${f.path}`])]);
    return this.commit(head, message);
  }

  private async commit(head: string, message: string): Promise<string> {
    const tree = await this.git(["write-tree"]);
    const commit = await this.git(["commit-tree", tree, "-p", head, "-F", "-"], `${message}\n`);
    await this.git(["update-ref", "refs/heads/main", commit, head]);
    return commit;
  }

  close(): void {
    rmSync(this.scratch, { recursive: true, force: true });
  }
}
