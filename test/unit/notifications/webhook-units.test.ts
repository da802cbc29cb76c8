import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sign, verify } from "@octokit/webhooks-methods";
import { afterAll, describe, expect, it } from "vitest";
import { WebhookFormat } from "../../../entities/webhook.js";
import { parseRetryAfter, retryDelayMs } from "../../../src/notifications/backoff.js";
import { SecretBox, SecretKeyError } from "../../../src/notifications/secret-box.js";
import { postDelivery } from "../../../src/notifications/sender.js";
import { deliveryHeaders } from "../../../src/notifications/signing.js";
import { parseReceiverUrl } from "../../../src/notifications/webhook-service.js";

describe("retry backoff", () => {
  it("doubles from the base with ±25 % jitter", () => {
    const low = () => 0;
    const high = () => 0.999999;
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 1000, { random: low }))).toEqual([750, 1500, 3000, 6000]);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 1000, { random: high }))).toEqual([1250, 2500, 5000, 10000]);
    expect(retryDelayMs(3, 1000, { random: () => 0.5 })).toBe(4000);
  });

  it("the defaults (30 s, 8 attempts) spread the attempts over about an hour", () => {
    const waits = [1, 2, 3, 4, 5, 6, 7].map((n) => retryDelayMs(n, 30_000, { random: () => 0.5 }));
    const total = waits.reduce((a, b) => a + b, 0) / 60_000;
    expect(total).toBeGreaterThan(55);
    expect(total).toBeLessThan(70);
  });

  it("honours Retry-After (seconds or a date), up to an hour", () => {
    expect(retryDelayMs(1, 1000, { random: () => 0.5, retryAfterMs: 120_000 })).toBe(120_000);
    expect(retryDelayMs(1, 1000, { random: () => 0.5, retryAfterMs: 10 * 3_600_000 })).toBe(3_600_000);
    expect(parseRetryAfter("30")).toBe(30_000);
    expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 1)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(60_000);
    expect(parseRetryAfter("soon")).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
  });
});

describe("webhook signatures", () => {
  it("X-Hub-Signature-256 is what @octokit/webhooks-methods signs and verifies", async () => {
    const body = JSON.stringify({ hello: "wörld", n: 1 });
    const headers = deliveryHeaders({ secret: "s3cr3t", body, deliveryId: "whd_1", webhookId: "whk_1", format: WebhookFormat.JSON, event: "GIT_PUSH", ping: false });
    expect(headers["x-hub-signature-256"]).toBe(await sign("s3cr3t", body));
    expect(await verify("s3cr3t", body, headers["x-hub-signature-256"]!)).toBe(true);
    expect(await verify("s3cr3t", `${body} `, headers["x-hub-signature-256"]!)).toBe(false);
    expect(headers["x-github-event"]).toBeUndefined();
  });

  it("GITHUB_PUSH deliveries carry GitHub's event headers", () => {
    const push = deliveryHeaders({ secret: "s", body: "{}", deliveryId: "whd_2", webhookId: "whk_2", format: WebhookFormat.GITHUB_PUSH, event: "GIT_PUSH", ping: false });
    expect(push).toMatchObject({ "x-github-event": "push", "x-github-delivery": "whd_2", "x-rollback-event": "GIT_PUSH" });
    const ping = deliveryHeaders({ secret: "s", body: "{}", deliveryId: "whd_3", webhookId: "whk_2", format: WebhookFormat.GITHUB_PUSH, event: "GIT_PUSH", ping: true });
    expect(ping).toMatchObject({ "x-github-event": "ping", "x-rollback-event": "PING" });
  });
});

describe("webhook secrets at rest", () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(path.join(tmpdir(), "rbs-secret-"));
    dirs.push(d);
    return d;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("round-trips, never in clear, bound to its webhook", async () => {
    const box = new SecretBox(null, dir());
    const sealed = await box.seal("hunter2", "whk_a");
    expect(sealed).not.toContain("hunter2");
    expect(await box.open(sealed, "whk_a")).toBe("hunter2");
    await expect(box.open(sealed, "whk_b")).rejects.toThrow(SecretKeyError);
    expect(await box.seal("hunter2", "whk_a")).not.toBe(sealed); // a fresh IV each time
  });

  it("another key (a replica without the shared WEBHOOK_SECRET_KEY) cannot open it, and says so", async () => {
    const sealed = await new SecretBox(Buffer.alloc(32, 1), dir()).seal("hunter2", "whk_a");
    await expect(new SecretBox(Buffer.alloc(32, 2), dir()).open(sealed, "whk_a")).rejects.toThrow(/encrypted with another key .*replicas must share WEBHOOK_SECRET_KEY/);
    expect(await new SecretBox(Buffer.alloc(32, 1), dir()).open(sealed, "whk_a")).toBe("hunter2");
  });

  it("a data directory without a key cannot open anything", async () => {
    const sealed = await new SecretBox(null, dir()).seal("x", "whk_a");
    await expect(new SecretBox(null, dir()).open(sealed, "whk_a")).rejects.toThrow(/no webhook secret key/);
  });
});

describe("receiver URLs", () => {
  it.each(["http://argocd.example.com/api/webhook", "https://hooks.slack.com/services/T0/B0/x", "http://127.0.0.1:8080/hook?x=1", "https://[::1]:9443/"])("accepts %s", (url) => {
    expect(parseReceiverUrl(url).href).toBe(new URL(url).href);
  });
  it.each([
    ["ftp://x.example.com/", /http:\/\/ or https:\/\//],
    ["ws://x.example.com/", /http:\/\/ or https:\/\//],
    ["data:text/plain,hi", /http:\/\/ or https:\/\//],
    ["https://a:b@x.example.com/", /credentials/],
    ["https://x.example.com/#frag", /fragment/],
    ["//x.example.com/", /not a valid URL/],
  ])("refuses %s", (url, message) => {
    expect(() => parseReceiverUrl(url)).toThrow(message);
  });
});

describe("sending a delivery", () => {
  const servers: http.Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));
  const serve = async (handler: http.RequestListener) => {
    const server = http.createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  };

  it("does not follow redirects: only the registered URL is ever called", async () => {
    let followed = false;
    const target = await serve((_req, res) => {
      followed = true;
      res.end("ok");
    });
    const redirecting = await serve((_req, res) => res.writeHead(307, { location: target }).end());
    const result = await postDelivery(redirecting, "{}", { "content-type": "application/json" }, 2000);
    expect(result).toMatchObject({ ok: false, status: 307 });
    expect(result.error).toContain("redirects are not followed");
    expect(followed).toBe(false);
  });

  it("keeps a short, single-line excerpt of an error answer and the Retry-After", async () => {
    const url = await serve((_req, res) => res.writeHead(429, { "retry-after": "7" }).end(`slow down\n${"x".repeat(5000)}`));
    const result = await postDelivery(url, "{}", {}, 2000);
    expect(result.status).toBe(429);
    expect(result.retryAfterMs).toBe(7000);
    expect(result.error!.length).toBeLessThan(400);
    expect(result.error).toMatch(/^receiver answered HTTP 429: slow down x+…$/);
  });
});
