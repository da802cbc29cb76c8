import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TestServer } from "./server.js";

/** The built entry points as separate processes (npm test compiles first; when iterating, run `npm run build`). */

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const AGENT_MAIN = path.join(REPO_ROOT, "dist/src/agent/main.js");
export const CLI_MAIN = path.join(REPO_ROOT, "dist/src/cli/main.js");

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command without blocking the event loop (the server under test lives in this process,
 * so a synchronous child would deadlock against it).
 */
export function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; onSpawn?: (pid: number) => void } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 90_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (child.pid && options.onSpawn) options.onSpawn(child.pid);
  });
}

/** A git environment free of the machine's configuration, prompts and credential helpers. */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: tmpdir(),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "",
    SSH_ASKPASS: "",
    LANG: "C",
    LC_ALL: "C",
    ...extra,
  };
}

export function git(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  return run("git", args, { cwd: options.cwd, env: gitEnv(options.env) });
}

/** Runs the built CLI against the test server's data directory. */
export function runCli(t: TestServer, args: string[]): Promise<RunResult> {
  return run(process.execPath, [CLI_MAIN, ...args], { env: childEnv({ DATA_DIR: t.dataDir, LOG_LEVEL: "error", SEED: "none" }) });
}

/** Runs the simulator once (or with --interval when given in args) as a child process. */
export function runAgent(t: TestServer, token: string, args: string[], options: { timeoutMs?: number; onSpawn?: (pid: number) => void } = {}): Promise<RunResult> {
  return run(process.execPath, [AGENT_MAIN, "--server", t.url, "--token", token, ...args], {
    env: gitEnv({ TZ: "UTC" }),
    timeoutMs: options.timeoutMs,
    onSpawn: options.onSpawn,
  });
}

/** A long-running simulator (--interval), its output collected, stopped with SIGTERM. */
export interface AgentProcess {
  child: ChildProcess;
  output(): string;
  stop(): Promise<number | null>;
}

export function startAgent(t: TestServer, token: string, args: string[]): AgentProcess {
  const child = spawn(process.execPath, [AGENT_MAIN, "--server", t.url, "--token", token, ...args], { env: gitEnv({ TZ: "UTC" }), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (out += c.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

const scratch: string[] = [];
export function scratchDir(prefix = "rbs-scratch-"): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}
export function removeScratch(): void {
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface ServerProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the exit code (or signal name) once the process ends. */
  exited: Promise<number | string>;
  /** Resolves with the first stdout JSON log line whose msg is `msg`. */
  logLine(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  kill(): void;
}

/** Environment for a spawned server: the caller's variables that would change storage are cleared. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: "UTC", DATABASE_URL: "", REDIS_URL: "", GIT_REMOTE: "", PG_SCHEMA: "", EXECUTION_PAUSE_AT: "" };
  delete env.NODE_OPTIONS;
  return { ...env, ...extra };
}

/** Runs a built entry point (dist/...) as its own process, recording its output line by line. */
export function spawnNode(script: string, args: string[], env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, script), ...args], { cwd: REPO_ROOT, env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const listeners = new Set<() => void>();
  const lineReader = (sink: string[]) => {
    let buffer = "";
    return (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      sink.push(...lines);
      for (const l of [...listeners]) l();
    };
  };
  child.stdout!.on("data", lineReader(stdout));
  child.stderr!.on("data", lineReader(stderr));
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, signal) => {
      for (const l of [...listeners]) l();
      resolve(code ?? signal ?? -1);
    });
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  return {
    child,
    stdout,
    stderr,
    exited,
    logLine(msg, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const line of stdout) {
            if (!line.startsWith("{")) continue;
            try {
              const parsed = JSON.parse(line) as Record<string, unknown>;
              if (parsed.msg === msg) {
                listeners.delete(check);
                clearTimeout(timer);
                resolve(parsed);
                return;
              }
            } catch {
              // not a log line
            }
          }
          if (done) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`process ended before logging "${msg}"; stdout: ${stdout.join("\n")}; stderr: ${stderr.join("\n")}`));
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no "${msg}" log line; stdout: ${stdout.join("\n")}; stderr: ${stderr.join("\n")}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    kill() {
      if (!done && child.pid) child.kill("SIGKILL");
    },
  };
}
