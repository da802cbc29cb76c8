/**
 * The three programs as operators run them: the `bin` entries (rollback-server, rollback-cli,
 * rollback-agent) run the built files without building again; --version and per-command --help
 * answer; unknown options, unknown commands and bad values answer one line and exit 2; `watch`
 * against a server that is down says so and exits 1; `audit verify` on an empty DATA_DIR says
 * there is nothing to verify and creates nothing.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../helpers/assertions.js";
import { historyRevisions } from "../../helpers/operations.js";
import { childEnv } from "../../helpers/processes.js";
import { startTestServer, type TestServer } from "../../helpers/server.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const PKG = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string; bin: Record<string, string>; scripts: Record<string, string> };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program (a bin entry, or npm) and collects its output. */
function run(command: string, args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: childEnv({ LOG_LEVEL: "warn", ...env }), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
const bin = (name: string, args: string[], env?: Record<string, string>) => run(process.execPath, [path.join(ROOT, PKG.bin[name]!), ...args], env);

/** One line on stderr, nothing else, and no trace of a stack. */
function expectOneLine(r: Run, pattern: RegExp): void {
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/TypeError|ERR_PARSE_ARGS|\n\s+at /);
}

describe("the rollback-server, rollback-cli and rollback-agent programs", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const emptyDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), "rbs-cli-empty-"));
    dirs.push(dir);
    return dir;
  };

  describe("entry points", () => {
    it("ships executable bin entries with a node shebang for the three programs", () => {
      expect(Object.keys(PKG.bin).sort()).toEqual(["rollback-agent", "rollback-cli", "rollback-server"]);
      for (const file of Object.values(PKG.bin)) {
        const full = path.join(ROOT, file);
        expect(readFileSync(full, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
        accessSync(full, constants.X_OK);
      }
    });

    it("answers --version from each program with the package's version", async () => {
      for (const name of ["rollback-server", "rollback-cli", "rollback-agent"]) {
        const r = await bin(name, ["--version"]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.trim()).toBe(`${name} ${PKG.version}`);
      }
    });

    it("runs `npm run cli` on the built files without building first (the build happens at install and start)", async () => {
      for (const script of ["cli", "agent", "watch", "serve"]) expect(PKG.scripts[script]).not.toMatch(/build|tsc/);
      expect(PKG.scripts.prepare).toBe("npm run build");
      expect(PKG.scripts.start).toMatch(/^npm run build && /);
      const built = path.join(ROOT, "dist/src/cli/main.js");
      const before = statSync(built).mtimeMs;
      const r = await run("npm", ["run", "--silent", "cli", "--", "--version"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(`rollback-cli ${PKG.version}`);
      expect(statSync(built).mtimeMs).toBe(before);
    });
  });

  describe("help", () => {
    it("lists the commands with --help and exits 0", async () => {
      const r = await bin("rollback-cli", ["--help"]);
      expect(r.code).toBe(0);
      for (const command of ["token create", "user create", "project create", "reindex", "audit verify", "seed demo", "watch"]) expect(r.stdout).toContain(command);
    });

    it("gives each command its own --help, watch's included", async () => {
      const cases: [string[], string[]][] = [
        [
          ["token", "create"],
          ["--email", "--project", "--role", "--agent", "--expires-days"],
        ],
        [["audit", "verify"], ["--project"]],
        [["watch"], ["--server", "--token", "--project", "--deployments"]],
        [
          ["project", "create"],
          ["--org", "--plan", "--features", "--environments", "--tenants"],
        ],
      ];
      for (const [command, options] of cases) {
        const r = await bin("rollback-cli", [...command, "--help"]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain(`rollback-cli ${command.join(" ")}`);
        for (const option of options) expect(r.stdout).toContain(option);
      }
    });

    it("prints the agent's and the server's usage with --help", async () => {
      const agent = await bin("rollback-agent", ["--help"]);
      expect(agent.code).toBe(0);
      expect(agent.stdout).toContain("--interval");
      const server = await bin("rollback-server", ["--help"]);
      expect(server.code).toBe(0);
      expect(server.stdout).toContain("environment variables");
    });
  });

  describe("mistakes: one line, exit 2", () => {
    it("names an unknown option and suggests the one meant", async () => {
      const r = await bin("rollback-cli", ["token", "create", "--emial", "ops@example.com", "--project", "demo"]);
      expect(r.code).toBe(2);
      expectOneLine(r, /^error: unknown option --emial for token create \(did you mean --email\?\)/);
    });

    it("refuses bad values before touching any storage", async () => {
      const dataDir = emptyDir();
      const cases: [string[], RegExp][] = [
        [["token", "create", "--email", "a@example.com", "--project", "demo", "--role", "KING"], /--role must be one of VIEWER, DEPLOYER, APPROVER, ADMIN, got "KING"/],
        [["token", "create", "--email", "a@example.com", "--project", "demo", "--expires-days", "soon"], /--expires-days must be a whole number/],
        [["token", "create", "--email", "a@example.com"], /--project is required/],
        [["audit", "verify", "--project"], /--project needs a value/],
        [["reindex", "--json"], /unknown option --json for reindex/],
        [["audit", "verify", "--project", "demo", "extra"], /unexpected argument "extra"/],
        [
          ["project", "create", "--org", "o", "--plan", "GOLD", "--features", "rollback", "--project", "p", "--environments", "dev", "--tenants", "t"],
          /--plan must be one of FREE, PRO, ENTERPRISE/,
        ],
      ];
      for (const [args, message] of cases) {
        const r = await bin("rollback-cli", args, { DATA_DIR: dataDir });
        expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
        expectOneLine(r, message);
      }
      expect(readdirSync(dataDir)).toEqual([]);
    });

    it("refuses an unknown command", async () => {
      const r = await bin("rollback-cli", ["frobnicate"]);
      expect(r.code).toBe(2);
      expectOneLine(r, /^error: unknown command "frobnicate"/);
    });

    it("refuses unknown options of the agent and the server in one line", async () => {
      const agent = await bin("rollback-agent", ["--sever", "http://x"]);
      expect(agent.code).toBe(2);
      expectOneLine(agent, /unknown option --sever for rollback-agent \(did you mean --server\?\)/);
      const server = await bin("rollback-server", ["--port", "4000"]);
      expect(server.code).toBe(2);
      expectOneLine(server, /unknown option --port for rollback-server/);
    });
  });

  describe("storage and servers that are not there", () => {
    it("audit verify on an empty DATA_DIR says there is nothing to verify and creates no database", async () => {
      const dataDir = emptyDir();
      const r = await bin("rollback-cli", ["audit", "verify", "--project", "demo"], { DATA_DIR: dataDir });
      expect(r.code).toBe(1);
      expectOneLine(r, /^nothing to verify: there is no database at .*rollback\.sqlite/);
      expect(readdirSync(dataDir)).toEqual([]);
    });

    it("watch against a server that is down says so and exits 1", async () => {
      const r = await bin("rollback-cli", ["watch", "--server", "http://127.0.0.1:9", "--token", "rbs_x", "--project", "demo"]);
      expect(r.code).toBe(1);
      expectOneLine(r, /^error: cannot reach the rollback server at ws:\/\/127\.0\.0\.1:9\/graphql: connect ECONNREFUSED/);
    });
  });

  describe("against a running server", () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer();
    });
    afterAll(async () => {
      await t?.stop();
    });

    it("audit verify reports an intact chain of the demo", async () => {
      const r = await bin("rollback-cli", ["audit", "verify", "--project", "demo"], { DATA_DIR: t.dataDir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^audit chain of demo: intact \(\d+ events\)/);
    });

    it("watch prints a rollback's states live, and a refused token ends it with exit 1", async () => {
      const victor = t.tokens["victor@example.com"]!;
      const child = spawn(process.execPath, [path.join(ROOT, PKG.bin["rollback-cli"]!), "watch", "--server", t.url, "--project", "demo", "--environment", "staging"], {
        cwd: ROOT,
        env: childEnv({ ROLLBACK_TOKEN: victor }),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
      const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
      await eventually(async () => (stderr.includes("watching demo/staging") ? true : undefined), "the watcher to connect", 20_000);
      await new Promise((r) => setTimeout(r, 300));
      const jane = t.tokens["jane@example.com"]!;
      const [, , target] = await historyRevisions(t, jane, "demo", "globex", "staging", 3);
      await t.ok(jane, `mutation($i: RollbackInput!) { requestRollback(input: $i) { id } }`, {
        i: { project: "demo", tenant: "globex", environment: "staging", mode: "FULL", targetSha: target, justification: "watched" },
      });
      await eventually(async () => (stdout.includes("COMPLETED") ? true : undefined), "the COMPLETED line", 20_000);
      expect(stdout).toMatch(/rbk-\S+\s+EXECUTING\s+FULL\s+globex\/staging/);
      child.kill("SIGINT");
      expect(await exited).toBe(0);

      const refused = await bin("rollback-cli", ["watch", "--server", t.url, "--project", "demo", "--token", "rbs_not-a-token"]);
      expect(refused.code).toBe(1);
      expectOneLine(refused, /^error: the server refused the token \(4401\)/);
    });
  });
});
