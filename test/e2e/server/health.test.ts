import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tokenOf } from "../../helpers/demo.js";
import { rawGraphql } from "../../helpers/http.js";
import { DEPLOYMENT_RECORDED } from "../../helpers/operations.js";
import { REPO_ROOT } from "../../helpers/processes.js";
import { useTestServer } from "../../helpers/server.js";
import { connected, subscribe } from "../../helpers/subscriptions.js";

/** The server process answers health probes, serves GraphQL and graphql-ws on one port, and keeps the API contract. */
describe("health probes", () => {
  const t = useTestServer();

  it("answers GET /healthz with 200 while the process is up", async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("answers GET /readyz with 200 when the database and Git are reachable", async () => {
    const res = await fetch(`${t.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ready", checks: { database: "ok", git: "ok" } });
  });

  it("serves GraphQL on /graphql and nothing else on other paths", async () => {
    const res = await fetch(`${t.url}/nothing-here`);
    expect(res.status).toBe(404);
    const { json } = await rawGraphql(t.graphqlUrl, { query: "{ me { email } }" }, `Bearer ${t.tokens["jane@example.com"]}`);
    expect(json.data).toEqual({ me: { email: "jane@example.com" } });
  });

  it("marks GraphQL answers as not cacheable (cache-control: no-store), errors included", async () => {
    for (const query of ["{ me { email } }", "{ nope }"]) {
      const res = await fetch(t.graphqlUrl, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${t.tokens["jane@example.com"]}` },
        body: JSON.stringify({ query }),
      });
      expect(res.headers.get("cache-control"), query).toBe("no-store");
    }
  });

  it("serves graphql-ws subscriptions on the same path and port", async () => {
    expect(t.wsUrl).toBe(`${t.graphqlUrl.replace(/^http/, "ws")}`);
    const client = t.ws(tokenOf(t, "jane"));
    const ack = connected(client);
    const sub = subscribe(client, DEPLOYMENT_RECORDED, { p: "demo" }, "deploymentRecorded");
    await ack;
    expect(sub.errors).toEqual([]);
    sub.dispose();
  });
});

describe("schema", () => {
  const tool = path.join(REPO_ROOT, "..", "shared", "tools", "check-contract.mjs");

  it.skipIf(!existsSync(tool))("keeps the contract: check-contract.mjs prints `contract: holds` for schema/schema.graphql", () => {
    const out = execFileSync(process.execPath, [tool, "schema/schema.graphql"], { cwd: REPO_ROOT, encoding: "utf8" });
    expect(out.trim()).toBe("contract: holds");
  });
});
