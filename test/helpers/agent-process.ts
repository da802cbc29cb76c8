import { spawn, type ChildProcess } from "node:child_process";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";

/** The built simulator (npm test compiles first). */
const AGENT_MAIN = fileURLToPath(new URL("../../dist/src/agent/main.js", import.meta.url));

/** A long-running agent simulator (--interval), its output collected, stopped with SIGTERM. */
export interface AgentProcess {
  child: ChildProcess;
  output(): string;
  stop(): Promise<number | null>;
}

export function startAgent(server: string, token: string, args: string[]): AgentProcess {
  const child = spawn(process.execPath, [AGENT_MAIN, "--server", server, "--token", token, ...args], {
    // Git without the machine's configuration, prompts or credential helpers.
    env: { PATH: process.env.PATH, HOME: tmpdir(), GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_TERMINAL_PROMPT: "0", LANG: "C", LC_ALL: "C", TZ: "UTC" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString("utf8")));
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
