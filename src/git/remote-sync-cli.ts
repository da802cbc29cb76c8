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
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new GitCliError(args[0]!, e.stdout ?? "", `git ${args[0]} failed: ${(e.stderr || e.message).trim().split("\n").slice(-1)[0]}`, err);
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
        await this.git(["push", "--porcelain", lease, "origin", `${sha}:${BRANCH_REF}`], localPath);
        return true;
      } catch (err) {
        // The ref's own status line says why, whatever git prints on stderr around it.
        const status = err instanceof GitCliError ? pushStatus(err.stdout, BRANCH_REF) : null;
        if (status && status.flag === "!" && LOST_RACE.test(status.summary)) {
          this.logger.info({ project, sha: sha.slice(0, 7), status: status.summary }, "push lost the race to another replica; fetching and retrying");
          await this.fetchNow(localPath);
          return false;
        }
        if (status && status.flag === "!") throw new GitStoreError(`the remote refused the push of ${BRANCH}: ${status.summary}`, { cause: err });
        throw err;
      }
    });
  }

  async ping(project: string): Promise<void> {
    await this.git(["ls-remote", "--heads", this.url(project), BRANCH]);
  }
}

/**
 * Why the remote did not take a push of the branch, as a race: the lease saw another replica's
 * commit ("stale info"), the branch moved ("fetch first", "non-fast-forward"), or the remote
 * was updating the ref at that moment ("failed to update ref", "failed to lock", "cannot lock ref").
 */
const LOST_RACE = /stale info|fetch first|non-fast-forward|failed to update ref|lock/i;

/** A failed git command, with its standard output (where `--porcelain` puts each ref's status). */
class GitCliError extends GitStoreError {
  constructor(
    readonly command: string,
    readonly stdout: string,
    message: string,
    cause: unknown,
  ) {
    super(message, { cause });
  }
}

/**
 * The status line `git push --porcelain` printed for `ref`: `<flag>\t<from>:<to>\t<summary>`,
 * where the flag `!` means rejected and the summary reads e.g. `[rejected] (stale info)` or
 * `[remote rejected] (failed to update ref)`.
 */
export function pushStatus(stdout: string, ref: string): { flag: string; summary: string } | null {
  for (const line of stdout.split("\n")) {
    const parts = line.split("\t");
    if (parts.length < 3 || parts[0]!.length !== 1) continue;
    const to = parts[1]!.slice(parts[1]!.lastIndexOf(":") + 1);
    if (to === ref) return { flag: parts[0]!, summary: parts.slice(2).join("\t").trim() };
  }
  return null;
}
