import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenOf } from "../../helpers/demo.js";
import { agentToken } from "../../helpers/fixtures.js";
import { basic, rawRequest, repoUrl } from "../../helpers/http.js";
import { CLI_MAIN, git, removeScratch, run, scratchDir } from "../../helpers/processes.js";
import { startTestServer, type TestServer, useTestServer } from "../../helpers/server.js";

/** The hosted repository over Git smart HTTP, read-only, for Argo CD and agents. */
describe("the hosted repository over Git smart HTTP", () => {
  const t = useTestServer();
  let jane: string;
  let mallory: string;
  let victor: string;
  let demoAgent: string;
  let starterAgent: string;
  let head: string;

  beforeAll(async () => {
    jane = tokenOf(t, "jane");
    mallory = tokenOf(t, "mallory");
    victor = tokenOf(t, "victor");
    demoAgent = await agentToken(t, "demo");
    starterAgent = await agentToken(t, "starter");
    head = t.git("demo", "rev-parse", "refs/heads/main").trim();
  });
  afterAll(async () => {
    removeScratch();
  });

  async function cloneAs(token: string | null, project = "demo", extra: string[] = []) {
    const dir = path.join(scratchDir(), "clone");
    const result = await git([...extra, "clone", "--quiet", repoUrl(t, project, token ?? undefined), dir]);
    return { ...result, dir };
  }

  describe("git clone", () => {
    it("clones with a user token as the password in the URL (DEPLOYER), with the server's exact history", async () => {
      const { code, stderr, dir } = await cloneAs(jane);
      expect(stderr).toBe("");
      expect(code).toBe(0);
      const cloned = await git(["rev-parse", "HEAD"], { cwd: dir });
      expect(cloned.stdout.trim()).toBe(head);
      expect(existsSync(path.join(dir, "tenants/acme/production/rendered/api-gateway.yaml"))).toBe(true);
      const count = await git(["rev-list", "--count", "HEAD"], { cwd: dir });
      expect(count.stdout.trim()).toBe(t.git("demo", "rev-list", "--count", "refs/heads/main").trim());
    });

    it("clones with a VIEWER's token: any role in the project may read", async () => {
      const { code, dir } = await cloneAs(victor);
      expect(code).toBe(0);
      expect((await git(["rev-parse", "HEAD"], { cwd: dir })).stdout.trim()).toBe(head);
    });

    it("clones with the project's agent token", async () => {
      const { code, dir } = await cloneAs(demoAgent);
      expect(code).toBe(0);
      expect((await git(["rev-parse", "HEAD"], { cwd: dir })).stdout.trim()).toBe(head);
    });

    it("clones with Authorization: Bearer through http.extraHeader, leaving no token in .git/config", async () => {
      const { code, dir } = await cloneAs(null, "demo", ["-c", `http.extraHeader=Authorization: Bearer ${demoAgent}`]);
      expect(code).toBe(0);
      expect(readFileSync(path.join(dir, ".git/config"), "utf8")).not.toContain(demoAgent);
    });

    it("accepts an agent token minted by the CLI (token create --agent --project demo)", async () => {
      const cli = await run(process.execPath, [CLI_MAIN, "token", "create", "--agent", "--project", "demo"], {
        env: { ...process.env, DATA_DIR: t.dataDir, LOG_LEVEL: "silent", DATABASE_URL: "" },
      });
      expect(cli.code).toBe(0);
      const token = cli.stdout.trim();
      expect(token).toMatch(/^rba_/);
      const { code } = await cloneAs(token);
      expect(code).toBe(0);
    });

    it("fails without credentials: 401 with WWW-Authenticate, and git cannot clone", async () => {
      const res = await fetch(`${t.url}/git/demo.git/info/refs?service=git-upload-pack`);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Basic realm="rollback-server"/);
      const { code, stderr, dir } = await cloneAs(null);
      expect(code).not.toBe(0);
      expect(stderr).toMatch(/could not read Username|Authentication failed|401/);
      expect(existsSync(dir)).toBe(false);
    });

    it("fails with a wrong or malformed token: 401", async () => {
      for (const authorization of [basic("rbs_not-a-token"), "Bearer rba_nope", basic(""), "Basic !!!", "Token abc"]) {
        const res = await fetch(`${t.url}/git/demo.git/info/refs?service=git-upload-pack`, { headers: { authorization } });
        expect(res.status, authorization).toBe(401);
        expect(res.headers.get("www-authenticate")).toMatch(/^Basic realm="rollback-server"/);
      }
      const { code } = await cloneAs("rbs_not-a-token");
      expect(code).not.toBe(0);
    });

    it("hides another organization's project (404) and one that does not exist (404)", async () => {
      // mallory only has a role in `starter`; `demo` belongs to another organization.
      const res = await fetch(`${t.url}/git/demo.git/info/refs?service=git-upload-pack`, { headers: { authorization: basic(mallory) } });
      expect(res.status).toBe(404);
      const { code, stderr } = await cloneAs(mallory);
      expect(code).not.toBe(0);
      expect(stderr).toMatch(/not found|404/);
      expect((await cloneAs(mallory, "starter")).code).toBe(0);

      const missing = await fetch(`${t.url}/git/no-such-project.git/info/refs?service=git-upload-pack`, { headers: { authorization: basic(jane) } });
      expect(missing.status).toBe(404);
    });

    it("lets an agent token read only its own project (404 elsewhere)", async () => {
      const res = await fetch(`${t.url}/git/demo.git/info/refs?service=git-upload-pack`, { headers: { authorization: `Bearer ${starterAgent}` } });
      expect(res.status).toBe(404);
      expect((await cloneAs(starterAgent, "demo")).code).not.toBe(0);
      expect((await cloneAs(starterAgent, "starter")).code).toBe(0);
    });

    it("accepts the token as the user name with an empty password", async () => {
      const res = await fetch(`${t.url}/git/demo.git/info/refs?service=git-upload-pack`, { headers: { authorization: `Basic ${Buffer.from(`${jane}:`).toString("base64")}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/x-git-upload-pack-advertisement");
    });

    it("serves a gzip-compressed upload-pack request (Content-Encoding: gzip)", async () => {
      const pkt = (s: string) => (s.length + 4).toString(16).padStart(4, "0") + s;
      const body = Buffer.from(`${pkt(`want ${head} ofs-delta\n`)}0000${pkt("done\n")}`);
      const res = await rawRequest(t, "/git/demo.git/git-upload-pack", {
        method: "POST",
        headers: {
          authorization: basic(jane),
          "content-type": "application/x-git-upload-pack-request",
          "content-encoding": "gzip",
          accept: "application/x-git-upload-pack-result",
        },
        body: gzipSync(body),
      });
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toBe("application/x-git-upload-pack-result");
      expect(res.body.includes(Buffer.from("PACK"))).toBe(true);
    });

    it("fetches new commits incrementally after a clone", async () => {
      const { dir } = await cloneAs(jane);
      const deployed = await t.ok<{ deploy: { revision: string } }>(
        jane,
        `mutation { deploy(input:{project:"demo",tenant:"globex",environment:"dev",service:"web",set:{replicas:7}}){ revision } }`,
      );
      const fetched = await git(["fetch", "--quiet", "origin"], { cwd: dir });
      expect(fetched.code).toBe(0);
      expect((await git(["rev-parse", "origin/main"], { cwd: dir })).stdout.trim()).toBe(deployed.deploy.revision);
      head = deployed.deploy.revision;
    });
  });

  describe("read-only", () => {
    it("refuses git push with 403 and leaves the repository unchanged", async () => {
      const { dir } = await cloneAs(tokenOf(t, "alice"));
      writeFileSync(path.join(dir, "tenants/acme/dev/env.yaml"), "pushed: true\n");
      const env = { GIT_AUTHOR_NAME: "a", GIT_AUTHOR_EMAIL: "a@example.com", GIT_COMMITTER_NAME: "a", GIT_COMMITTER_EMAIL: "a@example.com" };
      expect((await git(["commit", "-qam", "sneaky"], { cwd: dir, env })).code).toBe(0);
      const pushed = await git(["push", "origin", "HEAD:main"], { cwd: dir });
      expect(pushed.code).not.toBe(0);
      expect(pushed.stderr).toMatch(/403|read-only/);
      expect(t.git("demo", "rev-parse", "refs/heads/main").trim()).toBe(head);
      const forced = await git(["push", "--force", "origin", "HEAD:refs/heads/other"], { cwd: dir });
      expect(forced.code).not.toBe(0);
      expect(() => t.git("demo", "rev-parse", "--verify", "--quiet", "refs/heads/other")).toThrow();
    });

    it("answers 403 to receive-pack in the path or in ?service=, whoever asks", async () => {
      for (const auth of [basic(jane), basic(demoAgent), undefined]) {
        const headers: Record<string, string> = auth ? { authorization: auth } : {};
        const adv = await rawRequest(t, "/git/demo.git/info/refs?service=git-receive-pack", { headers });
        expect(adv.status).toBe(403);
        const post = await rawRequest(t, "/git/demo.git/git-receive-pack", {
          method: "POST",
          headers: { ...headers, "content-type": "application/x-git-receive-pack-request" },
          body: Buffer.from("0000"),
        });
        expect(post.status).toBe(403);
      }
    });

    it("answers 405 to the wrong method on a fetch endpoint", async () => {
      const res = await rawRequest(t, "/git/demo.git/git-upload-pack", { headers: { authorization: basic(jane) } });
      expect(res.status).toBe(405);
    });
  });

  describe("path tricks never serve anything outside the one repository", () => {
    const secrets = () => {
      const tokens = JSON.parse(readFileSync(path.join(t.dataDir, "demo-tokens.json"), "utf8")) as Record<string, string>;
      return [...Object.values(tokens), demoAgent, "SQLite format", "[core]", "repositoryformatversion", "ref: refs/heads"];
    };
    const tricks = [
      "/git/demo.git/../../rollback.sqlite",
      "/git/demo.git/../../demo-tokens.json",
      "/git/demo.git/..%2f..%2frollback.sqlite",
      "/git/demo.git/%2e%2e/%2e%2e/demo-tokens.json",
      "/git/%2e%2e/rollback.sqlite",
      "/git/..%2fdemo-tokens.json",
      "/git/..%2f..%2fdemo-tokens.json",
      "/git/demo.git%2f..%2f..%2frollback.sqlite",
      "/git/demo.git/config",
      "/git/demo.git/HEAD",
      "/git/demo.git/description",
      "/git/demo.git/packed-refs",
      "/git/demo.git/refs/heads/main",
      "/git/demo.git/objects/info/packs",
      "/git/demo.git/info/refs",
      "/git/demo.git/info/refs?service=git-upload-pack/../../config",
      "/git/demo.git/info/refs/../../config?service=git-upload-pack",
      "/git/demo.git/info%2frefs?service=git-upload-pack",
      "/git/demo%2egit/info/refs?service=git-upload-pack",
      "/git/DEMO.git/info/refs?service=git-upload-pack",
      "/git//etc/passwd",
      "/git/%2fetc%2fpasswd",
      "/git/demo.git/..\\..\\rollback.sqlite",
      "/git/.git/info/refs?service=git-upload-pack",
      "/git/repos/demo.git/info/refs?service=git-upload-pack",
      "/git/demo.git.git/info/refs?service=git-upload-pack",
      // mallory may read `starter`; traversal from there must not reach `demo`.
      "/git/starter.git/../demo.git/info/refs?service=git-upload-pack",
      "/git/starter.git/..%2fdemo.git/info/refs?service=git-upload-pack",
      "/git/starter.git/%2e%2e/demo.git/info/refs?service=git-upload-pack",
    ];

    it.each(tricks)("%s -> 404 with nothing secret in the body", async (trick) => {
      for (const auth of [basic(jane), basic(mallory)]) {
        const res = await rawRequest(t, trick, { headers: { authorization: auth } });
        expect(res.status, `${trick} as ${auth === basic(jane) ? "jane" : "mallory"}`).toBe(404);
        const text = res.body.toString("latin1");
        for (const secret of secrets()) expect(text).not.toContain(secret);
        expect(text).not.toContain(head.slice(0, 12));
      }
    });

    it("a valid smart-HTTP request for starter, as mallory, advertises starter's refs, not demo's", async () => {
      const res = await rawRequest(t, "/git/starter.git/info/refs?service=git-upload-pack", { headers: { authorization: basic(mallory) } });
      expect(res.status).toBe(200);
      const starterHead = t.git("starter", "rev-parse", "refs/heads/main").trim();
      expect(res.body.toString("latin1")).toContain(starterHead);
      expect(res.body.toString("latin1")).not.toContain(head);
    });

    it("keeps the environment of git http-backend free of the client's query (no GIT_* injection)", async () => {
      const res = await rawRequest(t, "/git/demo.git/info/refs?service=git-upload-pack&GIT_PROJECT_ROOT=/&PATH_INFO=/etc/passwd", { headers: { authorization: basic(jane) } });
      expect(res.status).toBe(200);
      expect(res.body.toString("latin1")).toContain(head);
      expect(res.body.toString("latin1")).not.toContain("root:");
    });
  });
});

describe("many agents fetching at once", () => {
  let t: TestServer;
  beforeAll(async () => {
    // One git process at a time: every other request waits its turn instead of forking its own.
    t = await startTestServer({ env: { GIT_HTTP_MAX_PROCESSES: "1" } });
  });
  afterAll(async () => {
    await t?.stop();
    removeScratch();
  });

  it("six clones at once with a cap of one git process all complete with the server's history (they wait their turn)", async () => {
    const token = await agentToken(t, "demo");
    const head = t.git("demo", "rev-parse", "refs/heads/main").trim();
    const clones = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const dir = path.join(scratchDir(), "clone");
        const result = await git(["clone", "--quiet", repoUrl(t, "demo", token), dir]);
        return { ...result, dir };
      }),
    );
    for (const c of clones) {
      expect(c.code, c.stderr).toBe(0);
      expect((await git(["rev-parse", "HEAD"], { cwd: c.dir })).stdout.trim()).toBe(head);
    }
  });
});
