import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { AgentError } from "./errors.js";

export const BRANCH = "main";

export interface RepoOptions {
  /** https://server/git/<project>.git, without credentials. */
  url: string;
  token: string;
  /** The working copy. */
  dir: string;
  signal?: AbortSignal;
}

/**
 * Environment for every git command: the token travels as an `http.extraHeader` set through
 * GIT_CONFIG_COUNT/KEY/VALUE, the environment form of `git -c http.extraHeader=...` (git 2.31+).
 * So it is never written to .git/config, never part of a URL, and not in the process list.
 * Prompts, askpass programs and credential helpers are off: a refused token fails at once.
 */
export function gitEnv(token: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "",
    SSH_ASKPASS: "",
    GIT_CONFIG_COUNT: "2",
    GIT_CONFIG_KEY_0: "http.extraHeader",
    GIT_CONFIG_VALUE_0: `Authorization: Bearer ${token}`,
    GIT_CONFIG_KEY_1: "credential.helper",
    GIT_CONFIG_VALUE_1: "",
  };
}

export function runGit(args: string[], options: { cwd?: string; env: NodeJS.ProcessEnv; signal?: AbortSignal }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"], signal: options.signal });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => {
      if (err.length < 8192) err += c.toString("utf8");
    });
    child.on("error", (e) => {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") reject(new AgentError("git is not installed (the agent pulls with the git command line)"));
      else reject(e);
    });
    child.on("close", (code) => {
      if (code === 0) return resolve(out);
      const last = err
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean)
        .pop();
      reject(new AgentError(`git ${args.find((a) => !a.startsWith("-")) ?? ""} failed: ${last ?? `exit code ${code}`}`));
    });
  });
}

/**
 * Clones the repository on the first run and fetches it on later ones, like Argo CD's repo
 * server, and checks out the branch head. Returns the head's full sha.
 */
export async function pullRepository(options: RepoOptions): Promise<string> {
  const env = gitEnv(options.token);
  const signal = options.signal;
  if (!existsSync(path.join(options.dir, ".git"))) {
    await rm(options.dir, { recursive: true, force: true }); // a clone interrupted earlier
    await mkdir(path.dirname(options.dir), { recursive: true });
    await runGit(["clone", "--quiet", "--no-tags", "--single-branch", "--branch", BRANCH, options.url, options.dir], { env, signal });
  } else {
    // The server URL may have changed between runs; the origin follows it.
    await runGit(["remote", "set-url", "origin", options.url], { cwd: options.dir, env, signal });
    await runGit(["fetch", "--quiet", "--no-tags", "--prune", "origin", `+refs/heads/${BRANCH}:refs/remotes/origin/${BRANCH}`], { cwd: options.dir, env, signal });
    await runGit(["checkout", "--quiet", "--force", "-B", BRANCH, `refs/remotes/origin/${BRANCH}`], { cwd: options.dir, env, signal });
    await runGit(["clean", "--quiet", "-fdx"], { cwd: options.dir, env, signal });
  }
  return (await runGit(["rev-parse", "HEAD"], { cwd: options.dir, env, signal })).trim();
}
