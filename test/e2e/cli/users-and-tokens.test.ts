import { afterAll, describe, expect, it } from "vitest";
import { type ServerProcess, spawnNode } from "../../helpers/processes.js";
import { startTestServer, type TestServer } from "../../helpers/server.js";

/** The CLI issues tokens on the same services as the server; tokens are shown once and stored hashed. */
describe("the CLI manages users and tokens", () => {
  let t: TestServer;
  const procs: ServerProcess[] = [];

  afterAll(async () => {
    for (const p of procs) p.kill();
    await t?.stop();
  });

  const cli = async (...args: string[]) => {
    const p = spawnNode("dist/src/cli/main.js", args, { DATA_DIR: t.dataDir, LOG_LEVEL: "warn" });
    procs.push(p);
    const code = await p.exited;
    return { code, stdout: p.stdout, stderr: p.stderr };
  };

  it("creates a token with `token create --email --project --role` that the running server accepts", async () => {
    t = await startTestServer();
    const out = await cli("token", "create", "--email", "dora@example.com", "--project", "demo", "--role", "DEPLOYER");
    expect(out.code, out.stderr.join("\n")).toBe(0);
    const token = out.stdout.find((l) => l.trim() !== "")!.trim();
    expect(token).toMatch(/^\S{20,}$/);
    const data = await t.ok<{ me: { email: string }; project: { viewerRole: string } }>(token, `{ me { email } project(slug:"demo"){ viewerRole } }`);
    expect(data).toEqual({ me: { email: "dora@example.com" }, project: { viewerRole: "DEPLOYER" } });
    const stored = JSON.stringify(await t.app.db.manager.query(`SELECT * FROM "api_token"`));
    expect(stored).not.toContain(token);
  });

  it("creates a user with `user create` and gives them a role", async () => {
    const out = await cli("user", "create", "--email", "erin@example.com", "--name", "Erin Ops", "--project", "demo", "--role", "VIEWER");
    expect(out.code, out.stderr.join("\n")).toBe(0);
    const tok = await cli("token", "create", "--email", "erin@example.com", "--project", "demo");
    expect(tok.code, tok.stderr.join("\n")).toBe(0);
    const token = tok.stdout.find((l) => l.trim() !== "")!.trim();
    const data = await t.ok<{ me: { email: string; name: string }; project: { viewerRole: string } }>(token, `{ me { email name } project(slug:"demo"){ viewerRole } }`);
    expect(data).toEqual({ me: { email: "erin@example.com", name: "Erin Ops" }, project: { viewerRole: "VIEWER" } });
  });

  it("refuses an unknown role with a usage error and a non-zero exit", async () => {
    const out = await cli("token", "create", "--email", "x@example.com", "--project", "demo", "--role", "OWNER");
    expect(out.code).not.toBe(0);
    expect(out.stderr.join("\n")).toContain("--role");
  });
});
