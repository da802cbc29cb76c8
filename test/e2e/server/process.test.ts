import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { rawGraphql } from "../../helpers/http.js";
import { DEPLOYMENT_RECORDED, REQUEST_ROLLBACK, type RollbackRequestView } from "../../helpers/operations.js";
import { type ServerProcess, spawnNode } from "../../helpers/processes.js";
import { copyOfTemplate } from "../../helpers/server.js";
import { closeCode, connected, subscribe, wsClient } from "../../helpers/subscriptions.js";

/** The built server as operators start it: invalid configuration, first start with the demo seed, restarts, graceful shutdown. */
describe("starting the built server (node dist/src/main.js)", () => {
  let proc: ServerProcess | undefined;
  const dirs: string[] = [];

  afterEach(async () => {
    proc?.kill();
    if (proc) await proc.exited;
    proc = undefined;
  });
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const tempDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), "rbs-main-"));
    dirs.push(dir);
    return dir;
  };

  it.each([
    ["PORT", "abc"],
    ["SEED", "sometimes"],
    ["DATABASE_URL", "mysql://db/rollback"],
  ])("exits non-zero with a one-line message naming %s when it is invalid (%s)", async (variable, value) => {
    const dataDir = tempDir();
    proc = spawnNode("dist/src/main.js", [], { DATA_DIR: dataDir, PORT: "0", [variable]: value });
    const code = await proc.exited;
    expect(code).not.toBe(0);
    const output = [...proc.stderr, ...proc.stdout].filter((l) => l.trim() !== "");
    expect(output, output.join("\n")).toHaveLength(1);
    expect(output[0]).toContain(variable);
    expect(output[0]).not.toMatch(/\n|\s+at\s/);
    // Nothing was started or seeded.
    expect(existsSync(path.join(dataDir, "demo-tokens.json"))).toBe(false);
  });

  it("seeds the demo on first start, prints the tokens once, and stops on SIGTERM closing subscriptions with 1001 and exiting 0", async () => {
    const dataDir = tempDir();
    proc = spawnNode("dist/src/main.js", [], { DATA_DIR: dataDir, PORT: "0", SEED: "demo", LOG_LEVEL: "info" });
    const listening = await proc.logLine("rollback server listening", 240_000);
    const graphqlUrl = String(listening.url);
    expect(graphqlUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);

    // demo-tokens.json is written and its tokens were printed as plain text on stderr, out of the JSON log stream.
    const tokens = JSON.parse(readFileSync(path.join(dataDir, "demo-tokens.json"), "utf8")) as Record<string, string>;
    expect(Object.keys(tokens)).toContain("jane@example.com");
    const printed = proc.stderr.join("\n");
    expect(proc.stdout.join("\n")).not.toContain(tokens["jane@example.com"]);
    for (const [email, token] of Object.entries(tokens)) {
      expect(printed).toContain(email);
      expect(printed).toContain(token);
    }
    expect(existsSync(path.join(dataDir, "repos", "demo.git"))).toBe(true);

    // The demo is there for a new user.
    const { json } = await rawGraphql(
      graphqlUrl,
      { query: `{ me { email } deploymentHistory(project:"demo",tenant:"acme",environment:"production",first:1){ totalCount } }` },
      `Bearer ${tokens["jane@example.com"]}`,
    );
    expect(json.errors).toBeUndefined();
    expect(json.data).toMatchObject({ me: { email: "jane@example.com" } });
    expect((json.data as { deploymentHistory: { totalCount: number } }).deploymentHistory.totalCount).toBeGreaterThanOrEqual(25);

    // A subscription is open when SIGTERM arrives.
    const client = wsClient(graphqlUrl.replace(/^http/, "ws"), tokens["jane@example.com"]!);
    const ack = connected(client);
    const closed = closeCode(client, 60_000);
    const sub = subscribe(client, DEPLOYMENT_RECORDED, { p: "demo" }, "deploymentRecorded");
    await ack;

    proc.child.kill("SIGTERM");
    expect(await closed).toBe(1001);
    expect(await proc.exited).toBe(0);
    expect(proc.stdout.some((l) => l.includes('"stopped"'))).toBe(true);
    sub.dispose();
    await client.dispose();

    // Stopped: nothing listens any more.
    await expect(fetch(`${graphqlUrl.replace(/\/graphql$/, "")}/healthz`)).rejects.toThrow();
  });

  it("does not seed again on a second start over the same DATA_DIR, and the first tokens still work", async () => {
    const dataDir = copyOfTemplate("rbs-restart-");
    dirs.push(dataDir);
    const tokensBefore = readFileSync(path.join(dataDir, "demo-tokens.json"), "utf8");
    proc = spawnNode("dist/src/main.js", [], { DATA_DIR: dataDir, PORT: "0", SEED: "demo", LOG_LEVEL: "info" });
    const listening = await proc.logLine("rollback server listening", 240_000);
    expect(proc.stdout.join("\n")).not.toContain("Demo data seeded");
    expect(readFileSync(path.join(dataDir, "demo-tokens.json"), "utf8")).toBe(tokensBefore);
    const tokens = JSON.parse(tokensBefore) as Record<string, string>;
    const { json } = await rawGraphql(String(listening.url), { query: "{ me { email } }" }, `Bearer ${tokens["victor@example.com"]}`);
    expect(json.data).toEqual({ me: { email: "victor@example.com" } });
    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  });

  it("a SIGTERM while it is still starting (seeding) stops it once started, drained, exiting 0 with the seed complete", async () => {
    const dataDir = tempDir();
    proc = spawnNode("dist/src/main.js", [], { DATA_DIR: dataDir, PORT: "0", SEED: "demo", LOG_LEVEL: "info" });
    await proc.logLine("seeding the demo: first start on an empty database", 240_000);
    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    const messages = proc.stdout.filter((l) => l.startsWith("{")).map((l) => (JSON.parse(l) as { msg: string }).msg);
    const order = ["shutdown requested while starting: stopping once started", "rollback server listening", "shutting down: draining requests and subscriptions", "stopped"];
    expect(messages.filter((m) => order.includes(m))).toEqual(order);
    // The seed was not cut short: the demo is whole, and the next start does not seed again.
    const tokens = JSON.parse(readFileSync(path.join(dataDir, "demo-tokens.json"), "utf8")) as Record<string, string>;
    expect(Object.keys(tokens)).toContain("jane@example.com");
    proc = spawnNode("dist/src/main.js", [], { DATA_DIR: dataDir, PORT: "0", SEED: "demo", LOG_LEVEL: "info" });
    const listening = await proc.logLine("rollback server listening", 240_000);
    expect(proc.stdout.some((l) => l.includes("seeding the demo"))).toBe(false);
    const { json } = await rawGraphql(
      String(listening.url),
      { query: `{ deploymentHistory(project:"starter",tenant:"globex",environment:"production",first:1){ totalCount } }` },
      `Bearer ${tokens["jane@example.com"]}`,
    );
    expect((json.data as { deploymentHistory: { totalCount: number } }).deploymentHistory.totalCount).toBeGreaterThanOrEqual(25);
    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  });

  it("writes structured JSON log lines", async () => {
    const dataDir = copyOfTemplate("rbs-logs-");
    dirs.push(dataDir);
    proc = spawnNode("dist/src/main.js", [], { DATA_DIR: dataDir, PORT: "0", SEED: "none", LOG_LEVEL: "info" });
    const listening = await proc.logLine("rollback server listening", 240_000);
    expect(listening).toMatchObject({ level: "info", msg: "rollback server listening" });
    expect(typeof listening.time).toBe("string");
    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    for (const line of proc.stdout.filter((l) => l.startsWith("{"))) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it("finishes an in-flight rollback before it stops on SIGTERM", async () => {
    const dataDir = copyOfTemplate("rbs-inflight-");
    dirs.push(dataDir);
    const tokens = JSON.parse(readFileSync(path.join(dataDir, "demo-tokens.json"), "utf8")) as Record<string, string>;
    // Each execution pauses before its commit: SIGTERM arrives while the request is in flight.
    proc = spawnNode("dist/src/main.js", [], {
      DATA_DIR: dataDir,
      PORT: "0",
      SEED: "demo",
      LOG_LEVEL: "info",
      EXECUTION_PAUSE_AT: "before-commit",
      EXECUTION_PAUSE_MS: "3000",
    });
    const listening = await proc.logLine("rollback server listening", 240_000);
    const graphqlUrl = String(listening.url);
    const auth = `Bearer ${tokens["jane@example.com"]}`;
    const { json: hist } = await rawGraphql(graphqlUrl, { query: `{ deploymentHistory(project:"demo",tenant:"acme",environment:"staging",first:5){ nodes { revision } } }` }, auth);
    const target = (hist.data as { deploymentHistory: { nodes: { revision: string }[] } }).deploymentHistory.nodes[4]!.revision;

    const inFlight = rawGraphql(
      graphqlUrl,
      {
        query: REQUEST_ROLLBACK,
        variables: { input: { project: "demo", tenant: "acme", environment: "staging", mode: "FULL", targetSha: target, justification: "in flight at shutdown" } },
      },
      auth,
    );
    await proc.logLine("execution paused by test hook", 120_000);
    proc.child.kill("SIGTERM");

    const { json } = await inFlight;
    expect(json.errors).toBeUndefined();
    const request = (json.data as { requestRollback: RollbackRequestView }).requestRollback;
    expect(request.state).toBe("COMPLETED");
    expect(await proc.exited).toBe(0);

    // The commit is in the repository and the history records it after a restart.
    const repo = path.join(dataDir, "repos", "demo.git");
    expect(execFileSync("git", ["-C", repo, "rev-parse", "refs/heads/main"], { encoding: "utf8" }).trim()).toBe(request.commitSha);
    proc = spawnNode("dist/src/main.js", [], { DATA_DIR: dataDir, PORT: "0", SEED: "none", LOG_LEVEL: "info" });
    const again = await proc.logLine("rollback server listening", 240_000);
    const { json: after } = await rawGraphql(
      String(again.url),
      {
        query: `{ rollbackRequest(id:"${request.id}"){ state commitSha } deploymentHistory(project:"demo",tenant:"acme",environment:"staging",first:1){ nodes { revision source } } }`,
      },
      auth,
    );
    expect(after.data).toEqual({
      rollbackRequest: { state: "COMPLETED", commitSha: request.commitSha },
      deploymentHistory: { nodes: [{ revision: request.commitSha, source: "ROLLBACK" }] },
    });
    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  });
});
