import http from "node:http";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenOf } from "../../helpers/demo.js";
import { basic, rawRequest, repoUrl } from "../../helpers/http.js";
import { gitEnv, removeScratch, run, scratchDir } from "../../helpers/processes.js";
import { useTestServer } from "../../helpers/server.js";

/**
 * The Git endpoint under a hostile or slow client: request bodies are read whole before a git
 * process is taken (with a time limit), so sixteen requests trickling their bodies from one
 * organization cannot stall another organization's clones; malformed bodies get an HTTP answer.
 */

const UPLOAD_PACK = "application/x-git-upload-pack-request";

/** A POST to git-upload-pack announcing 100,000 bytes and sending one every 500 ms; resolves with the status the server answers. */
function trickle(url: string, token: string): { started: Promise<void>; answered: Promise<number | null>; stop(): void } {
  let started!: () => void;
  const startedP = new Promise<void>((resolve) => (started = resolve));
  const req = http.request(`${url}/git/starter.git/git-upload-pack`, {
    method: "POST",
    headers: { authorization: basic(token), "content-type": UPLOAD_PACK, "content-length": "100000" },
  });
  // eslint-disable-next-line prefer-const -- assigned once the request is under way, read by its handlers
  let timer: NodeJS.Timeout | undefined;
  const answered = new Promise<number | null>((resolve) => {
    req.on("response", (res) => {
      clearInterval(timer);
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.on("error", () => {
      clearInterval(timer);
      resolve(null);
    });
  });
  req.flushHeaders();
  req.write("0", () => started());
  timer = setInterval(() => req.write("0"), 500);
  return { started: startedP, answered, stop: () => (clearInterval(timer), req.destroy()) };
}

describe("the Git endpoint with slow and malformed requests", () => {
  const t = useTestServer({ env: { GIT_HTTP_MAX_PROCESSES: "8", GIT_HTTP_BODY_TIMEOUT_SECONDS: "6" } });
  let jane: string, mallory: string;

  beforeAll(() => {
    jane = tokenOf(t, "jane");
    mallory = tokenOf(t, "mallory");
  });
  afterAll(() => removeScratch());

  it("16 slow upload-pack requests of one organization do not stall another organization's ls-remote and clone; they end 408", async () => {
    const slow = Array.from({ length: 16 }, () => trickle(t.url, mallory));
    try {
      await Promise.all(slow.map((s) => s.started));
      const head = t.git("demo", "rev-parse", "refs/heads/main").trim();
      // Child processes run asynchronously: the server under test lives in this process.
      const lsRemote = await run("git", ["ls-remote", repoUrl(t, "demo", jane), "refs/heads/main"], { env: gitEnv(), timeoutMs: 15_000 });
      expect(lsRemote.stderr).toBe("");
      expect(lsRemote.code).toBe(0);
      expect(lsRemote.stdout).toContain(head);
      const dir = path.join(scratchDir(), "clone");
      const clone = await run("git", ["clone", "--quiet", repoUrl(t, "demo", jane), dir], { env: gitEnv(), timeoutMs: 15_000 });
      expect(clone.code, clone.stderr).toBe(0);
      expect((await run("git", ["-C", dir, "rev-parse", "HEAD"], { env: gitEnv() })).stdout.trim()).toBe(head);
      // The slow requests themselves are answered once their body time is up.
      expect(await Promise.all(slow.map((s) => s.answered))).toEqual(Array.from({ length: 16 }, () => 408));
    } finally {
      for (const s of slow) s.stop();
    }
  }, 60_000);

  it("a body that is not a pkt-line stream gets 400 with a reason, plain or gzipped", async () => {
    for (const [body, headers] of [
      [Buffer.from("garbage"), {}],
      [Buffer.from("0032want 0123"), {}],
      [gzipSync("garbage"), { "content-encoding": "gzip" }],
      [Buffer.from("not gzip at all"), { "content-encoding": "gzip" }],
    ] as const) {
      const res = await rawRequest(t, "/git/demo.git/git-upload-pack", {
        method: "POST",
        headers: { authorization: basic(jane), "content-type": UPLOAD_PACK, ...headers },
        body,
      });
      expect(res.status, body.toString("latin1")).toBe(400);
      expect(res.body.toString("utf8")).toMatch(/^malformed upload-pack request: /);
    }
  });

  it("an empty upload-pack body gets 400, an oversized one 413, before any git process runs", async () => {
    const empty = await rawRequest(t, "/git/demo.git/git-upload-pack", {
      method: "POST",
      headers: { authorization: basic(jane), "content-type": UPLOAD_PACK },
      body: Buffer.alloc(0),
    });
    expect(empty.status).toBe(400);
    const big = await rawRequest(t, "/git/demo.git/git-upload-pack", {
      method: "POST",
      headers: { authorization: basic(jane), "content-type": UPLOAD_PACK, "content-length": String(64 * 1024 * 1024) },
    });
    expect(big.status).toBe(413);
    expect(big.body.toString("utf8")).toMatch(/request body larger than \d+ bytes/);
  });
});
