import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLI_MAIN, childEnv, run, type ServerProcess, spawnNode } from "../../helpers/processes.js";
import { call } from "../../helpers/replica.js";
import { copyOfTemplate, freshDataDir } from "../../helpers/server.js";

/**
 * Losing the database while the repositories stay: the server neither starts on them nor seeds
 * the demo over them, and says how to recover; the CLI recreates a project's record for its
 * repository and rebuilds its whole history from the commits' trailers. CLI errors are one line.
 */
describe("a data directory whose database was lost", () => {
  let proc: ServerProcess | undefined;
  const dirs: string[] = [];

  afterEach(async () => {
    proc?.kill();
    if (proc) await proc.exited;
    proc = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const cli = (dataDir: string, ...args: string[]) => run(process.execPath, [CLI_MAIN, ...args], { env: childEnv({ DATA_DIR: dataDir, LOG_LEVEL: "warn", SEED: "none" }) });
  const repoGit = (dataDir: string, project: string, ...args: string[]) =>
    execFileSync("git", ["-C", path.join(dataDir, "repos", `${project}.git`), ...args], { encoding: "utf8" }).trim();
  const loseDatabase = (dataDir: string) => {
    for (const f of ["rollback.sqlite", "rollback.sqlite-wal", "rollback.sqlite-shm"]) rmSync(path.join(dataDir, f), { force: true });
  };
  const lines = (text: string) => text.split("\n").filter((l) => l.trim() !== "");

  it("the server refuses to start (SEED=demo or not) with one line saying how to recover, and seeds nothing over the repositories", async () => {
    const dataDir = copyOfTemplate("rbs-lostdb-");
    dirs.push(dataDir);
    const commits = repoGit(dataDir, "demo", "rev-list", "--count", "main");
    const head = repoGit(dataDir, "demo", "rev-parse", "main");
    const tokens = readFileSync(path.join(dataDir, "demo-tokens.json"), "utf8");
    loseDatabase(dataDir);

    for (const seed of ["demo", "none"]) {
      proc = spawnNode("dist/src/main.js", [], { DATA_DIR: dataDir, PORT: "0", SEED: seed, LOG_LEVEL: "error" });
      expect(await proc.exited).toBe(1);
      const said = proc.stderr.filter((l) => l.trim() !== "");
      expect(said, said.join("\n")).toHaveLength(1);
      expect(said[0]).toMatch(
        /^cannot start: the database has no projects but DATA_DIR\/repos holds 3 project repositories \(demo, pro, starter\); .*rollback-cli project recover --project <slug> --org <organization>/,
      );
      expect(said[0]).not.toContain(dataDir);
      proc = undefined;
    }
    // Nothing was seeded over the real history, and the tokens file is untouched.
    expect(repoGit(dataDir, "demo", "rev-list", "--count", "main")).toBe(commits);
    expect(repoGit(dataDir, "demo", "rev-parse", "main")).toBe(head);
    expect(readFileSync(path.join(dataDir, "demo-tokens.json"), "utf8")).toBe(tokens);
    // `seed demo` does not seed over them either.
    const seeded = await cli(dataDir, "seed", "demo");
    expect(seeded.stdout).toMatch(/^not seeded: /);
    expect(repoGit(dataDir, "demo", "rev-list", "--count", "main")).toBe(commits);
  }, 120_000);

  it("`project recover` recreates the project for its repository and rebuilds the whole history from Git; the server then starts on it", async () => {
    const dataDir = copyOfTemplate("rbs-recover-");
    dirs.push(dataDir);
    const before = await cli(dataDir, "reindex", "--project", "demo");
    expect(before.code, before.stderr).toBe(0);
    const counts = /^demo: (\d+ deployments from \d+ commits in \d+ tenant-environments)/.exec(before.stdout)![1]!;
    loseDatabase(dataDir);

    const recovered = await cli(
      dataDir,
      "project",
      "recover",
      "--project",
      "demo",
      "--org",
      "acme-corp",
      "--plan",
      "ENTERPRISE",
      "--features",
      "basic_rollback,rollback,selective_rollback,rollback_approval",
    );
    expect(recovered.stderr).toBe("");
    expect(recovered.code).toBe(0);
    expect(recovered.stdout).toBe(`recovered project demo: ${counts}\n`);
    // A second project of the same, now existing, organization needs no plan.
    const again = await cli(dataDir, "project", "recover", "--project", "demo", "--org", "acme-corp");
    expect(again.code).toBe(2);
    expect(lines(again.stderr)).toEqual(['error: project "demo" already exists']);

    const issued = await cli(dataDir, "token", "create", "--email", "jane@example.com", "--project", "demo", "--role", "DEPLOYER");
    expect(issued.code, issued.stderr).toBe(0);
    const token = issued.stdout.trim();

    proc = spawnNode("dist/src/main.js", [], { DATA_DIR: dataDir, PORT: "0", SEED: "demo", LOG_LEVEL: "info" });
    const listening = await proc.logLine("rollback server listening", 120_000);
    const server = { graphqlUrl: String(listening.url) };
    const res = await call<{ deploymentHistory: { totalCount: number; nodes: { revision: string; author: { email: string } }[] } }>(
      server,
      token,
      `{ deploymentHistory(project:"demo", tenant:"acme", environment:"production", first:1){ totalCount nodes{ revision author{ email } } } }`,
    );
    expect(res.errors).toBeUndefined();
    const last = repoGit(dataDir, "demo", "log", "-1", "--format=%H", "main", "--", "tenants/acme/production");
    expect(res.data!.deploymentHistory.nodes[0]!.revision).toBe(last);
    expect(res.data!.deploymentHistory.totalCount).toBeGreaterThan(10);
    expect(proc.stdout.some((l) => l.includes("seeding the demo"))).toBe(false);
  }, 180_000);

  it("every CLI error is one line without a stack", async () => {
    const dataDir = copyOfTemplate("rbs-clierr-");
    const empty = freshDataDir("rbs-clierr-empty-");
    dirs.push(dataDir, empty);
    const cases: [string, string[], RegExp][] = [
      [dataDir, ["reindex", "--project", "nope"], /^error: project "nope" not found$/],
      [dataDir, ["audit", "verify", "--project", "nope"], /^error: project "nope" not found/],
      [dataDir, ["project", "recover", "--project", "nope", "--org", "acme-corp"], /^error: project "nope" has no repository in DATA_DIR\/repos: nothing to recover/],
      [dataDir, ["project", "recover", "--project", "pro", "--org", "new-org"], /^error: organization "new-org" does not exist: give its --plan and --features to create it/],
      [dataDir, ["project", "recover", "--project", "pro", "--org", "midsize", "--plan", "PRO"], /^error: --plan and --features go together/],
      [dataDir, ["token", "create", "--email", "x@example.com", "--project", "nope", "--role", "VIEWER"], /^error: /],
      [empty, ["reindex", "--project", "demo"], /^nothing to reindex: /],
    ];
    for (const [dir, args, expected] of cases) {
      const r = await cli(dir, ...args);
      expect(r.code, args.join(" ")).not.toBe(0);
      expect(lines(r.stderr), `${args.join(" ")}: ${r.stderr}`).toHaveLength(1);
      expect(r.stderr.trim(), args.join(" ")).toMatch(expected);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  }, 120_000);
});
