import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Logger } from "pino";
import { GitStoreError } from "./errors.js";
import { BRANCH, BRANCH_REF } from "./git-store.js";
import { KeyedMutex } from "../lib/mutex.js";
import type { RemoteSync } from "./remote-sync.js";

const run = promisify(execFile);

/**
 * Remote synchronisation through the git command line: fetch and push are network operations
 * that happen once per write, where the transport support of `git` matters more than speed.
 * Pushes are compare-and-swap through `--force-with-lease`, so a replica can never overwrite
 * another replica's commit.
 */
export class GitCliRemoteSync implements RemoteSync {
  /** Fetches and pushes of one local repository take turns: git locks its refs while updating them. */
  private readonly locks = new KeyedMutex();

  constructor(
    private readonly template: string,
    private readonly logger: Logger,
  ) {}

  url(project: string): string {
    return this.template.replaceAll("{project}", project);
  }

  private async git(args: string[], cwd?: string): Promise<{ stdout: string; stderr: string }> {
    try {
      return await run("git", args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: "0" }, maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new GitStoreError(`git ${args[0]} failed: ${(e.stderr || e.message).trim().split("\n").slice(-1)[0]}`, { cause: err });
    }
  }

  async cloneInto(project: string, localPath: string): Promise<void> {
    const url = this.url(project);
    if (url.startsWith("file://")) {
      // A local remote (shared volume) is created on first use; hosted remotes must exist already.
      const remotePath = fileURLToPath(url);
      if (!existsSync(remotePath)) {
        await mkdir(path.dirname(remotePath), { recursive: true });
        await this.git(["init", "--bare", "--quiet", "--initial-branch", BRANCH, remotePath]).catch(async (err) => {
          if (!existsSync(path.join(remotePath, "HEAD"))) throw err; // another replica created it first
        });
      }
    }
    await this.git(["clone", "--bare", "--quiet", url, localPath]);
    await this.git(["symbolic-ref", "HEAD", BRANCH_REF], localPath);
    await this.git(["config", "remote.origin.fetch", `+${BRANCH_REF}:${BRANCH_REF}`], localPath);
  }

  fetch(_project: string, localPath: string): Promise<void> {
    return this.locks.run(localPath, () => this.fetchNow(localPath));
  }

  private async fetchNow(localPath: string): Promise<void> {
    // Local commits are only ever made on top of the remote's head and pushed at once, so the
    // remote's branch always wins: a forced fetch refspec moves the local branch to it.
    try {
      await this.git(["fetch", "--quiet", "origin", `+${BRANCH_REF}:${BRANCH_REF}`], localPath);
    } catch (err) {
      // A remote without any commit yet has no branch to fetch.
      if (/couldn't find remote ref/i.test((err as Error).message)) return;
      throw err;
    }
  }

  async push(project: string, localPath: string, sha: string, expected: string | null): Promise<boolean> {
    const lease = expected ? `--force-with-lease=${BRANCH_REF}:${expected}` : `--force-with-lease=${BRANCH_REF}:`;
    return this.locks.run(localPath, async () => {
      try {
        await this.git(["push", "--quiet", "--porcelain", lease, "origin", `${sha}:${BRANCH_REF}`], localPath);
        return true;
      } catch (err) {
        const text = String((err as Error).message);
        if (/stale info|rejected|non-fast-forward|fetch first/i.test(text)) {
          this.logger.info({ project, sha: sha.slice(0, 7) }, "push lost the race to another replica; fetching and retrying");
          await this.fetchNow(localPath);
          return false;
        }
        throw err;
      }
    });
  }

  async ping(project: string): Promise<void> {
    await this.git(["ls-remote", "--heads", this.url(project), BRANCH]);
  }
}
