/**
 * The GraphQL explorer bundled with the server (GraphiQL with monaco, workers included): a browser
 * opening /graphql lands there instead of Apollo's CDN landing page, and it works with every
 * request to anywhere but the server blocked: the token entered once as the bearer header, queries,
 * subscriptions over graphql-ws, the schema's docs. INTROSPECTION=false turns introspection off on
 * both transports.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultWebRoot } from "../../../src/http/static-files.js";
import { historyRevisions } from "../../helpers/operations.js";
import { startTestServer, type TestServer } from "../../helpers/server.js";
import { collect } from "../../helpers/subscriptions.js";
import { expectAccessible, launchBrowser, openContext, screenshot } from "./browser.js";

/** Replaces the operation editor's text, as a user selecting all and pasting would. */
async function setOperation(page: Page, text: string): Promise<void> {
  const editor = page.getByRole("region", { name: "Operation Editor" }).locator(".monaco-editor textarea").first();
  await editor.focus();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text);
}

/** The response editor's text, whitespace normalised (monaco renders spaces as non-breaking ones). */
const responseText = async (page: Page) => (await page.locator(".graphiql-response").innerText()).replace(/\s+/g, " ");

describe("GraphQL explorer bundled with the server", () => {
  let t: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(path.join(defaultWebRoot(), "explorer", "index.html"))) throw new Error("the explorer is not built: run npm run build:web (npm test does)");
    t = await startTestServer();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it("sends a browser asking /graphql for HTML to the explorer; Apollo's CDN landing page is gone", async () => {
    const page = await fetch(`${t.url}/graphql`, { headers: { accept: "text/html,application/xhtml+xml" }, redirect: "manual" });
    expect(page.status).toBe(302);
    expect(page.headers.get("location")).toBe("/explorer/");
    const explorer = await fetch(`${t.url}/explorer/`, { headers: { accept: "text/html" } });
    const html = await explorer.text();
    expect(explorer.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(html).not.toMatch(/apollographql|cdn\.|https?:\/\//);
    // Clients that are not browsers still get the API's own answers.
    const api = await fetch(`${t.url}/graphql`, { headers: { accept: "application/json" } });
    expect(api.status).toBe(400);
    expect(await api.text()).not.toContain("<html");
    const query = await fetch(`${t.url}/graphql?query=${encodeURIComponent("{ __typename }")}`, { headers: { accept: "text/html", "apollo-require-preflight": "1" } });
    expect(query.status).not.toBe(302);
  });

  it("works air-gapped: token once, a query, a live subscription and the schema's docs", async () => {
    const c = await openContext(browser, t.url);
    const { page } = c;
    try {
      await page.goto(`${t.url}/graphql`);
      expect(new URL(page.url()).pathname).toBe("/explorer/");
      await page.getByRole("region", { name: "Operation Editor" }).waitFor();
      await page.getByLabel("API token").fill(t.tokens["jane@example.com"]!);
      await page.getByRole("button", { name: "Use token" }).click();
      await page.getByText("Token set: sent as Authorization: Bearer on every request and subscription.").waitFor();

      // The default operation: who am I, with the token as the bearer header.
      await page.getByRole("region", { name: "Operation Editor" }).waitFor();
      // Under load the editor can take a while to take its first operation: execute until it answers.
      await expect
        .poll(
          async () => {
            await page.getByRole("button", { name: /^Execute query/ }).click();
            return responseText(page);
          },
          { timeout: 45_000, interval: 1000 },
        )
        .toContain("jane@example.com");
      expect(await responseText(page)).toContain('"viewerRole": "DEPLOYER"');

      // The schema's docs, from introspection.
      await page.getByRole("button", { name: "Show Documentation Explorer" }).click();
      await page.getByRole("link", { name: "Query" }).first().click();
      await page.getByText("rollbackRequests").first().waitFor();
      await screenshot(page, "explorer-docs");

      // A subscription over graphql-ws, authenticated with the same token.
      await setOperation(page, 'subscription Watch { rollbackRequestUpdated(project: "demo") { id state } }');
      // GraphiQL parses the editor after a pause; the tab takes the operation's name once it has.
      await page.getByRole("tab", { name: /Watch/ }).waitFor();
      await page.getByRole("button", { name: /^Execute query/ }).click();
      const jane = t.tokens["jane@example.com"]!;
      const [, previous] = await historyRevisions(t, jane, "demo", "acme", "dev", 2);
      // Wait until the server has the subscription (a probe subscriber sees events the same way).
      const probe = collect(t.ws(jane), `subscription { rollbackRequestUpdated(project: "demo") { id } }`, {}, 1);
      await probe.ready;
      await new Promise((r) => setTimeout(r, 500));
      const created = await t.ok<{ requestRollback: { id: string } }>(
        jane,
        `mutation($r: String!) { requestRollback(input: {project: "demo", tenant: "acme", environment: "dev", mode: FULL, targetSha: $r, justification: "explorer test"}) { id } }`,
        { r: previous },
      );
      await probe.done;
      probe.dispose();
      await expect.poll(() => responseText(page), { timeout: 20_000 }).toContain(created.requestRollback.id);
      await screenshot(page, "explorer-subscription");

      expect(c.blocked, "requests that left the server").toEqual([]);
      expect(
        c.errors.filter((e) => /Content Security Policy|Refused to/.test(e)),
        "CSP violations",
      ).toEqual([]);
      // GraphiQL's own UI is upstream's; the part this project adds, the token bar, must pass axe.
      await expectAccessible(page, "explorer token bar", ".explorer-bar");
    } finally {
      await c.context.close();
    }
  });

  it("INTROSPECTION=false refuses introspection over HTTP and graphql-ws, and the explorer says so", async () => {
    const closed = await startTestServer({ env: { INTROSPECTION: "false" } });
    try {
      const jane = closed.tokens["jane@example.com"]!;
      const http = await closed.gql(jane, `{ __schema { queryType { name } } }`);
      expect(http.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
      expect(http.errors?.[0]?.message).toMatch(/introspection/i);
      expect((await closed.ok<{ me: { email: string } }>(jane, `{ me { email } }`)).me.email).toBe("jane@example.com");

      const ws = collect(closed.ws(jane), `query { __type(name: "Query") { name } }`, {}, 1, 10_000);
      // Refused before it runs (how graphql-ws reports validation errors is the transport's business).
      await expect(ws.done).rejects.toBeDefined();
      expect(ws.items).toEqual([]);
      expect(ws.errors.length).toBeGreaterThan(0);

      const c = await openContext(browser, closed.url);
      try {
        await c.page.goto(`${closed.url}/explorer/`);
        await c.page.getByLabel("API token").fill(jane);
        await c.page.getByRole("button", { name: "Use token" }).click();
        await expect.poll(() => responseText(c.page), { timeout: 20_000 }).toMatch(/introspection/i);
        expect(c.blocked).toEqual([]);
      } finally {
        await c.context.close();
      }
    } finally {
      await closed.stop();
    }
  });
});
