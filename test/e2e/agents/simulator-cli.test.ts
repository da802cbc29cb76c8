import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenOf } from "../../helpers/demo.js";
import { agentToken } from "../../helpers/fixtures.js";
import { syncOf } from "../../helpers/operations.js";
import { AGENT_MAIN, gitEnv, removeScratch, run, runAgent, scratchDir } from "../../helpers/processes.js";
import { startTestServer, useTestServer } from "../../helpers/server.js";

/** The simulator as an operator runs it: errors in one line, Ctrl-C, --interval. */
describe("the agent simulator's command line", () => {
  const t = useTestServer();
  let agent: string;

  beforeAll(async () => {
    agent = await agentToken(t, "demo");
  });
  afterAll(async () => {
    removeScratch();
  });

  const stateDir = () => path.join(scratchDir(), "state");
  const oneLine = (s: string) => s.trim().split("\n").length === 1;

  it("a refused token: exit 1 and one clear line", async () => {
    const r = await runAgent(t, "rba_not-a-real-token", ["--project", "demo", "--state-dir", stateDir()]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/^error: the server refused the token \(401\)/);
    expect(r.stdout).toBe("");
  });

  it("another project's agent token: exit 1, project not found", async () => {
    const starter = await agentToken(t, "starter");
    const r = await runAgent(t, starter, ["--project", "demo", "--state-dir", stateDir()]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/project "demo" not found .*\(404\)/);
  });

  it("an unreachable server: exit 1 and one clear line", async () => {
    const stopped = await startTestServer();
    const url = stopped.url;
    await stopped.stop();
    const r = await run(process.execPath, [AGENT_MAIN, "--server", url, "--token", agent, "--project", "demo", "--state-dir", stateDir()], { env: gitEnv() });
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/^error: cannot reach the server at http:\/\/127\.0\.0\.1:\d+: connection refused/);
  });

  it("usage errors: exit 2 with the reason; --help: exit 0 with the usage", async () => {
    const missing = await run(process.execPath, [AGENT_MAIN, "--server", t.url, "--project", "demo"], { env: gitEnv() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: --token is required/);
    const unknown = await run(process.execPath, [AGENT_MAIN, "--server", t.url, "--token", agent, "--project", "demo", "--bogus"], { env: gitEnv() });
    expect(unknown.code).toBe(2);
    const interval = await runAgent(t, agent, ["--project", "demo", "--interval", "soon"]);
    expect(interval.code).toBe(2);
    expect(interval.stderr).toMatch(/--interval/);
    const help = await run(process.execPath, [AGENT_MAIN, "--help"], { env: gitEnv() });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--drift");
  });

  it("an unknown tenant filter: exit 1 naming it", async () => {
    const r = await runAgent(t, agent, ["--project", "demo", "--tenant", "initech", "--state-dir", stateDir()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no tenant-environment with tenant "initech"/);
  });

  it("takes the token from AGENT_TOKEN, so it stays out of the process list", async () => {
    const r = await run(process.execPath, [AGENT_MAIN, "--server", t.url, "--project", "demo", "--tenant", "globex", "--environment", "dev", "--state-dir", stateDir()], {
      env: gitEnv({ AGENT_TOKEN: agent }),
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^globex\/dev\s+SYNCED\s+Healthy/);
  });

  it("with --interval: a plain status line per round when stdout is not a terminal, 'stopped' and exit 0 on SIGTERM and SIGINT", async () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const dir = stateDir();
      const child = spawn(
        process.execPath,
        [AGENT_MAIN, "--server", t.url, "--token", agent, "--project", "demo", "--tenant", "acme", "--environment", "production", "--interval", "0.2", "--state-dir", dir],
        {
          env: gitEnv(),
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stdout = "";
      let stderr = "";
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on("close", (code, sig) => resolve({ code, signal: sig })));
      // Two rounds printed: it loops.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no two rounds: ${stdout} ${stderr}`)), 60_000);
        child.stdout.on("data", (c: Buffer) => {
          stdout += c.toString();
          if ((stdout.match(/^acme\/production\s+SYNCED/gm) ?? []).length >= 2) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      child.kill(signal);
      const { code } = await exited;
      expect(code, stderr).toBe(0);
      expect(stdout.trim().split("\n").pop()).toBe("stopped");
      expect(stdout).not.toContain("\x1b[");
      expect(stderr).toBe("");
      expect(existsSync(path.join(dir, "applied.json"))).toBe(true);
    }
    expect((await syncOf(t, tokenOf(t, "victor"), "acme", "production")).sync.state).toBe("SYNCED");
  });

  it("keeps the clone's .git/config free of the token", async () => {
    const dir = stateDir();
    expect((await runAgent(t, agent, ["--project", "demo", "--tenant", "acme", "--environment", "dev", "--state-dir", dir])).code).toBe(0);
    const config = readFileSync(path.join(dir, "repo", ".git", "config"), "utf8");
    expect(config).toContain(`${t.url}/git/demo.git`);
    expect(config).not.toContain(agent);
    expect(config).not.toContain("extraHeader");
  });
});
