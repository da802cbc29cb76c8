/**
 * The operator console in a real browser, against the real server with the demo seed: the
 * history panel, the rollback wizard, live request pages, the approvals queue, role and plan
 * limits, break-glass and the audit trail. Elements are found by role and accessible name, every
 * page passes axe-core (no serious or critical violation) and is captured, and nothing is loaded
 * from anywhere but the server.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TokenKind } from "../../../entities/enums.js";
import { defaultWebRoot } from "../../../src/http/static-files.js";
import { historyRevisions } from "../../helpers/operations.js";
import { startTestServer, type TestServer } from "../../helpers/server.js";
import { ARTIFACTS, launchBrowser, openContext, screenshot, signIn, visit, type ConsoleContext } from "./browser.js";

const token = (t: TestServer, person: string) => {
  const value = t.tokens[`${person}@example.com`];
  if (!value) throw new Error(`no demo token for ${person}`);
  return value;
};

/** The state line of a request page ("State: Completed"), read as a user would. */
const requestState = (page: Page) => page.getByRole("status").filter({ hasText: /^State:/ });

describe("operator console in the browser", () => {
  let t: TestServer;
  let browser: Browser;
  const contexts: ConsoleContext[] = [];
  const open = async () => {
    const c = await openContext(browser, t.url);
    contexts.push(c);
    return c;
  };

  beforeAll(async () => {
    if (!existsSync(path.join(defaultWebRoot(), "index.html"))) throw new Error("the console is not built: run npm run build:web (npm test does)");
    t = await startTestServer();
    browser = await launchBrowser();
  });
  afterEach(async () => {
    for (const c of contexts.splice(0)) {
      expect(c.blocked, "requests that left the server").toEqual([]);
      expect(c.errors, "page errors").toEqual([]);
      await c.context.close();
    }
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it("jane rolls back a staging service from the fifth history row through the wizard and watches it complete", async () => {
    const { page } = await open();
    let loads = 0;
    page.on("load", () => loads++);
    await signIn(page, t.url, token(t, "jane"));
    await page.getByRole("heading", { name: "Projects" }).waitFor();
    await expect.poll(() => page.getByLabel("Signed-in user").textContent()).toContain("jane@example.com");
    await visit(page, "projects");

    await page.getByRole("link", { name: "demo", exact: true }).click();
    await page.getByRole("heading", { name: "Project demo" }).waitFor();
    await page.getByRole("link", { name: "acme / staging" }).waitFor();
    expect(await page.getByLabel("Signed-in user").textContent()).toContain("role DEPLOYER in demo");
    await visit(page, "overview");

    await page.getByRole("link", { name: "acme / staging" }).click();
    const history = page.getByRole("table", { name: "Deployments, newest first" });
    const fifth = history.getByRole("row").nth(5); // row 0 holds the column headers
    await fifth.getByRole("button", { name: "Rollback to this revision" }).waitFor();
    const revisions = await historyRevisions(t, token(t, "jane"), "demo", "acme", "staging", 5);
    const target = revisions[4]!;
    expect(await fifth.getByRole("rowheader").textContent()).toContain(target.slice(0, 7));
    for (const column of ["Revision", "Timestamp", "Author", "Changes", "Source", "Status", "Actions"]) {
      await history.getByRole("columnheader", { name: column }).waitFor();
    }
    await visit(page, "history");
    await screenshot(page, "readme-history", false);

    await fifth.getByRole("button", { name: "Rollback to this revision" }).click();
    await page.getByRole("heading", { name: "Select rollback scope" }).waitFor();
    await visit(page, "wizard-1-scope");
    await page.getByRole("radio", { name: "Service" }).check();
    await page.getByRole("button", { name: "Next" }).click();

    await page.getByRole("heading", { name: "Choose target tenant-environment" }).waitFor();
    expect(await page.getByRole("radio", { name: "acme / staging" }).isChecked()).toBe(true);
    // A service the rollback changes: one that differs between the head and the target.
    const compared = await t.ok<{ compareRevisions: { services: { service: string }[] } }>(
      token(t, "jane"),
      `query($r: String!) { compareRevisions(project: "demo", tenant: "acme", environment: "staging", target: $r) { services { service } } }`,
      { r: target },
    );
    const service = compared.compareRevisions.services[0]!.service;
    await page.getByLabel("Service").selectOption(service);
    await visit(page, "wizard-2-target");
    await page.getByRole("button", { name: "Next" }).click();

    await page.getByRole("heading", { name: "Select the target revision" }).waitFor();
    const preselected = page.getByRole("radio", { name: new RegExp(target.slice(0, 7)) });
    await preselected.waitFor();
    expect(await preselected.isChecked()).toBe(true);
    await visit(page, "wizard-3-revision");
    await page.getByRole("button", { name: "Next" }).click();

    await page.getByRole("heading", { name: "Preview the rollback diff" }).waitFor();
    await page.getByRole("table", { name: `Changed fields of ${service}` }).waitFor();
    await page.getByRole("region", { name: "Impact summary" }).waitFor();
    await page.getByText("No approval required: the rollback executes as soon as you submit.").first().waitFor();
    await visit(page, "wizard-4-preview");
    await screenshot(page, "readme-wizard-preview", false);
    await page.getByRole("button", { name: "Next" }).click();

    await page.getByRole("heading", { name: "Submit rollback" }).waitFor();
    // Justification is required: submitting without one says so where the button is.
    await page.getByRole("button", { name: "Submit rollback" }).click();
    expect(await page.getByRole("textbox", { name: "Justification" }).evaluate((el: { validity: { valueMissing: boolean } }) => el.validity.valueMissing)).toBe(true);
    await page.getByRole("textbox", { name: "Justification" }).fill(`${service} regression in staging`);
    await visit(page, "wizard-5-submit");
    await page.getByRole("button", { name: "Submit rollback" }).click();

    await page.getByRole("heading", { name: /^Rollback request rbk-/ }).waitFor();
    await expect.poll(() => requestState(page).textContent(), { timeout: 15_000 }).toContain("Completed");
    const id = (await page.getByRole("heading", { name: /^Rollback request rbk-/ }).textContent())!.replace("Rollback request ", "");
    const commit = page.getByRole("figure", { name: "Commit message" });
    await commit.waitFor();
    expect(await commit.textContent()).toContain(`Rollback: tenant/acme env/staging → revision ${target.slice(0, 7)}`);
    expect(await commit.textContent()).toContain(`Service: ${service}`);
    await visit(page, "request-completed");

    // The post-rollback checklist fills in live from the agent's report.
    const checklist = page.getByRole("list", { name: "Post-rollback checklist" });
    expect(await checklist.textContent()).toContain("Git commit present: done");
    expect(await checklist.textContent()).toContain("Agent synced to it: not yet");
    const { commitSha } = (await t.ok<{ rollbackRequest: { commitSha: string } }>(token(t, "jane"), `query($id: ID!) { rollbackRequest(id: $id) { commitSha } }`, { id }))
      .rollbackRequest;
    const agent = await t.app.auth.createToken({ actor: { kind: "system", user: null }, kind: TokenKind.AGENT, projectSlug: "demo", label: "console test" });
    await t.ok(agent.token, `mutation($i: SyncReportInput!) { reportSyncStatus(input: $i) { state } }`, {
      i: { project: "demo", tenant: "acme", environment: "staging", revision: commitSha, state: "SYNCED", health: "Healthy", drift: [] },
    });
    await expect.poll(() => checklist.textContent(), { timeout: 15_000 }).toContain("Agent synced to it: done");
    expect(await checklist.textContent()).toContain("Healthy: done");
    expect(await checklist.textContent()).toContain("No drift: done");
    expect(await checklist.textContent()).toContain("Documented: not yet");
    await page.getByRole("textbox", { name: "Note" }).fill("Root cause: bad config promoted from dev.");
    await page.getByRole("button", { name: "Add note" }).click();
    await expect.poll(() => checklist.textContent()).toContain("Documented: done");
    await visit(page, "request-checklist");

    // The overview shows the agent's report too, and the history marks what the rollback undid.
    await page.getByRole("link", { name: "demo: overview" }).click();
    const stagingRow = page.getByRole("table", { name: /^Tenant-environments/ }).getByRole("row", { name: /acme \/ staging/ });
    await expect.poll(() => stagingRow.textContent()).toContain("Connected");
    expect(await stagingRow.textContent()).toContain("Synced");
    // ...and follows the next report live, on the page as it is (once its subscription reached the server).
    await page.waitForTimeout(1000);
    await t.ok(agent.token, `mutation($i: SyncReportInput!) { reportSyncStatus(input: $i) { state } }`, {
      i: {
        project: "demo",
        tenant: "acme",
        environment: "staging",
        revision: commitSha,
        state: "OUT_OF_SYNC",
        health: "Degraded",
        drift: [{ kind: "Deployment", name: service, field: "spec.replicas", desired: 2, actual: 3 }],
      },
    });
    await expect.poll(() => stagingRow.textContent(), { timeout: 15_000 }).toContain("Degraded");
    expect(await stagingRow.textContent()).toContain("Out of sync");
    expect(loads, "page loads after signing in").toBe(1);
  });

  it("bob approves jane's production rollback from the approvals queue while her request page turns COMPLETED live", async () => {
    const jane = await open();
    const bob = await open();
    await signIn(jane.page, t.url, token(t, "jane"));
    await signIn(bob.page, t.url, token(t, "bob"));

    await jane.page.getByRole("link", { name: "demo", exact: true }).click();
    await jane.page.getByRole("link", { name: "acme / production" }).click();
    const history = jane.page.getByRole("table", { name: "Deployments, newest first" });
    await history.getByRole("row").nth(2).getByRole("button", { name: "Rollback to this revision" }).click();
    await jane.page.getByRole("radio", { name: "Service" }).check();
    await jane.page.getByRole("button", { name: "Next" }).click();
    await jane.page.getByLabel("Service").selectOption("api-gateway");
    await jane.page.getByRole("button", { name: "Next" }).click();
    await jane.page.getByRole("heading", { name: "Select the target revision" }).waitFor();
    await jane.page.getByRole("button", { name: "Next" }).click();
    await jane.page.getByRole("heading", { name: "Preview the rollback diff" }).waitFor();
    await jane.page.getByText("This rollback waits for 1 approval (APPROVER or ADMIN, not you) before it executes.").first().waitFor();
    await jane.page.getByRole("button", { name: "Next" }).click();
    await jane.page.getByRole("textbox", { name: "Justification" }).fill("Bad image tag v2.1.0 causing 500 errors");
    await jane.page.getByRole("button", { name: "Submit rollback" }).click();
    await jane.page.getByRole("heading", { name: /^Rollback request rbk-/ }).waitFor();
    await expect.poll(() => requestState(jane.page).textContent()).toContain("Pending");
    const id = (await jane.page.getByRole("heading", { name: /^Rollback request rbk-/ }).textContent())!.replace("Rollback request ", "");
    // jane may not review: the reason is the API's.
    expect(await jane.page.getByRole("button", { name: "Approve" }).isDisabled()).toBe(true);
    await jane.page.getByText('You cannot review this request: role DEPLOYER cannot review rollback requests in project "demo": APPROVER or higher is required').waitFor();
    await visit(jane.page, "request-pending");

    await bob.page.getByRole("link", { name: "demo", exact: true }).click();
    await bob.page.getByRole("link", { name: "Approvals" }).click();
    const card = bob.page.getByRole("article", { name: new RegExp(id) });
    await card.waitFor();
    expect(await card.textContent()).toContain("Bad image tag v2.1.0 causing 500 errors");
    await card.getByLabel(`Review comment for ${id} (optional)`).fill("LGTM, roll it back");
    await visit(bob.page, "approvals");
    await card.getByRole("button", { name: "Approve" }).click();
    await bob.page.getByText("No rollback request is waiting for approval in demo.").waitFor({ timeout: 15_000 });

    // jane's page, untouched since: the subscription brings every state.
    await expect.poll(() => requestState(jane.page).textContent(), { timeout: 15_000 }).toContain("Completed");
    const commit = jane.page.getByRole("figure", { name: "Commit message" });
    await commit.waitFor();
    expect(await commit.textContent()).toContain("Approval: Approved by bob@example.com (quorum: 1/1)");
    const reviews = jane.page.getByRole("region", { name: /^Reviews/ });
    expect(await reviews.textContent()).toContain("bob@example.com");
    expect(await reviews.textContent()).toContain("LGTM, roll it back");
    expect(await jane.page.getByRole("heading", { name: "Reviews (1 of 1 approvals)" }).count()).toBe(1);
    await visit(jane.page, "request-approved");
  });

  it("victor (VIEWER) sees no rollback or review button enabled", async () => {
    const jane = token(t, "jane");
    const [, previous] = await historyRevisions(t, jane, "demo", "acme", "production", 2);
    const pending = await t.ok<{ requestRollback: { id: string; state: string } }>(
      jane,
      `mutation($r: String!) { requestRollback(input: {project: "demo", tenant: "acme", environment: "production", mode: FULL, targetSha: $r, justification: "pending for victor"}) { id state } }`,
      { r: previous },
    );
    expect(pending.requestRollback.state).toBe("PENDING");

    const { page } = await open();
    await signIn(page, t.url, token(t, "victor"));
    const actions = /^(Rollback to this revision|Approve|Reject|Submit rollback|Retry execution|Open break-glass session)$/;
    const noneEnabled = async (where: string) => {
      const buttons = await page.getByRole("button", { name: actions }).all();
      for (const b of buttons) expect(await b.isDisabled(), `${where}: ${await b.textContent()}`).toBe(true);
      return buttons.length;
    };

    await page.getByRole("link", { name: "demo", exact: true }).click();
    await page.getByRole("heading", { name: "Project demo" }).waitFor();
    await page.getByText('role VIEWER cannot request rollbacks in project "demo": DEPLOYER or higher is required.').waitFor();
    expect(await page.getByRole("link", { name: "Start a rollback" }).count()).toBe(0);

    await page.getByRole("link", { name: "acme / production" }).click();
    await page.getByRole("button", { name: "Rollback to this revision" }).first().waitFor();
    expect(await noneEnabled("history")).toBeGreaterThan(10);
    expect(await page.getByRole("button", { name: "Compare with current" }).nth(1).isEnabled()).toBe(true); // reading is fine
    await visit(page, "history-viewer");

    await page.getByRole("link", { name: "Approvals" }).click();
    await page.getByRole("article", { name: new RegExp(pending.requestRollback.id) }).waitFor();
    expect(await noneEnabled("approvals")).toBeGreaterThanOrEqual(2);
    await page.getByText('You cannot review this request: role VIEWER cannot review rollback requests in project "demo": APPROVER or higher is required').first().waitFor();
    await visit(page, "approvals-viewer");

    await page.getByRole("link", { name: pending.requestRollback.id }).click();
    await page.getByRole("heading", { name: `Rollback request ${pending.requestRollback.id}` }).waitFor();
    await page.getByRole("button", { name: "Approve" }).waitFor();
    expect(await noneEnabled("request page")).toBeGreaterThanOrEqual(2);

    await page.getByRole("link", { name: "Break-glass" }).click();
    await page.getByRole("button", { name: "Open break-glass session" }).waitFor();
    expect(await noneEnabled("break-glass")).toBe(1);

    await page.goto(`${t.url}/projects/demo/rollback`);
    await page.getByText("You can walk through the steps and preview, but not submit").waitFor();
  });

  it("a FREE-plan project shows Service and Field-Level disabled with the plan named", async () => {
    const { page } = await open();
    await signIn(page, t.url, token(t, "jane"));
    await page.getByRole("link", { name: "starter", exact: true }).click();
    await page.getByRole("link", { name: "Start a rollback" }).click();
    await page.getByRole("heading", { name: "Select rollback scope" }).waitFor();
    expect(await page.getByRole("radio", { name: "Full" }).isEnabled()).toBe(true);
    expect(await page.getByRole("radio", { name: "Service" }).isDisabled()).toBe(true);
    expect(await page.getByRole("radio", { name: "Field-Level" }).isDisabled()).toBe(true);
    await page
      .getByText('Not available: SERVICE rollback is not available: it requires plan PRO or ENTERPRISE (organization "startup" is on FREE) and feature flag selective_rollback')
      .waitFor();
    await page
      .getByText('Not available: FIELD rollback is not available: it requires plan ENTERPRISE (organization "startup" is on FREE) and feature flag selective_rollback')
      .waitFor();
    // The reason is part of the option's description, so a screen reader hears it too.
    const described = await page.getByRole("radio", { name: "Service" }).getAttribute("aria-describedby");
    expect(described).toContain("mode-SERVICE-why");
    await visit(page, "wizard-free-plan");

    // Keyboard only: pick Full, tab to Next, press Enter; focus lands on the next step's title.
    await page.getByRole("radio", { name: "Full" }).focus();
    await page.keyboard.press("Space");
    expect(await page.getByRole("radio", { name: "Full" }).isChecked()).toBe(true);
    for (
      let i = 0;
      i < 10 &&
      (await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } | null } }).document.activeElement?.textContent)) !== "Next";
      i++
    ) {
      await page.keyboard.press("Tab");
    }
    await page.keyboard.press("Enter");
    const title = page.getByRole("heading", { name: "Choose target tenant-environment" });
    await title.waitFor();
    expect(await title.evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement)).toBe(true);
  });

  it("break-glass: the banner follows jane on every page, her rollback skips approval and is flagged, the audit trail shows it", async () => {
    const { page } = await open();
    await signIn(page, t.url, token(t, "jane"));
    await page.getByRole("link", { name: "demo", exact: true }).click();
    await page.getByRole("link", { name: "Break-glass" }).click();
    // The API's refusal, where the action was taken.
    await page.getByRole("textbox", { name: "Justification" }).fill("   ");
    await page.getByRole("button", { name: "Open break-glass session" }).click();
    await page.getByRole("alert").filter({ hasText: "The session was not opened: BAD_USER_INPUT justification is required to open a break-glass session" }).waitFor();
    await page.getByRole("textbox", { name: "Justification" }).fill("SEV1: checkout down");
    await page.getByLabel("Duration (minutes)").fill("30");
    await page.getByRole("button", { name: "Open break-glass session" }).click();
    const banner = page.getByRole("region", { name: "Open break-glass sessions" });
    await banner.waitFor();
    expect(await banner.textContent()).toContain("Break-glass session open in demo");
    await visit(page, "break-glass-open");

    await page.getByRole("link", { name: "demo: overview" }).click();
    await page.getByRole("link", { name: "acme / production" }).click();
    await banner.waitFor();
    const row = page.getByRole("table", { name: "Deployments, newest first" }).getByRole("row").nth(6);
    await row.getByRole("button", { name: "Compare with current" }).click();
    await page.getByRole("heading", { name: /^Compare revision/ }).waitFor();
    await page.getByRole("region", { name: "Impact summary" }).waitFor();
    await banner.waitFor();
    await visit(page, "compare");

    await page.getByRole("button", { name: "Rollback to this revision" }).click();
    await page.getByRole("radio", { name: "Full" }).check();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByRole("heading", { name: "Select the target revision" }).waitFor();
    await page.getByRole("button", { name: "Next" }).click();
    await page
      .getByText(/^Approval is bypassed by your open break-glass session/)
      .first()
      .waitFor();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByRole("textbox", { name: "Justification" }).fill("SEV1 mitigation");
    await page.getByRole("button", { name: "Submit rollback" }).click();
    await expect.poll(() => requestState(page).textContent(), { timeout: 15_000 }).toContain("Completed");
    expect(await requestState(page).textContent()).toContain("Break-glass: approval bypassed");
    expect(await page.getByRole("figure", { name: "Commit message" }).textContent()).toContain("Approval: Bypassed by break-glass session bgs_");

    await page.getByRole("link", { name: "Audit trail" }).click();
    await page
      .getByRole("status")
      .filter({ hasText: /^Intact: all \d+ events verified/ })
      .waitFor();
    await page.getByLabel("Break-glass only").check();
    const events = page.getByRole("table", { name: "Audit events, newest first" });
    await events.getByRole("rowheader", { name: "breakglass.opened" }).waitFor();
    for (const r of await events.getByRole("row").all()) {
      if ((await r.getByRole("rowheader").count()) > 0) expect(await r.textContent()).toContain("Yes");
    }
    await visit(page, "audit-break-glass");

    await page.getByRole("link", { name: "Break-glass" }).click();
    await page.getByRole("button", { name: "Close break-glass session" }).click();
    await page.getByRole("heading", { name: "Open a break-glass session" }).waitFor();
    await expect.poll(() => banner.count()).toBe(0);
  });

  it("measures the first load's compressed JavaScript and the history panel's first 50 rows (reported, not timed)", async () => {
    const { page, context } = await open();
    const scripts: { url: string; bytes: number; gzip: number }[] = [];
    page.on("response", async (res) => {
      if (res.request().resourceType() !== "script") return;
      const body = await res.body();
      scripts.push({ url: new URL(res.url()).pathname, bytes: body.length, gzip: gzipSync(body).length });
    });
    await page.goto(`${t.url}/`);
    await page.getByLabel("API token").waitFor();
    await page.waitForLoadState("networkidle");
    const gzipTotal = scripts.reduce((n, s) => n + s.gzip, 0);
    // Deterministic for a build, so it is asserted; GraphiQL and monaco are the explorer's alone.
    expect(gzipTotal).toBeLessThan(300 * 1024);
    expect(scripts.some((s) => /monaco|graphiql|explorer/.test(s.url))).toBe(false);

    // A history longer than one page (the demo has 27 deployments per tenant-environment).
    for (let i = 0; i < 30; i++) {
      await t.ok(
        token(t, "jane"),
        `mutation($n: JSON) { deploy(input: {project: "demo", tenant: "globex", environment: "dev", service: "worker", set: $n, summary: "scale worker"}) { id } }`,
        { n: { replicas: 10 + i } },
      );
    }
    // A fresh page load straight onto the history panel, signed in (the token already in the tab's session).
    await context.addInitScript((value: string) => sessionStorage.setItem("rollback-console.token", value), token(t, "victor"));
    const fresh = await context.newPage();
    await fresh.goto(`${t.url}/projects/demo/history/globex/dev`);
    await fresh.getByRole("table", { name: "Deployments, newest first" }).getByRole("row").nth(50).waitFor();
    await fresh.getByRole("button", { name: "Load more" }).waitFor();
    const rendered = await fresh.evaluate(() => {
      const mark = performance.getEntriesByName("history:first-page-rendered")[0] as unknown as { startTime: number; detail: unknown } | undefined;
      return mark ? { ms: mark.startTime, rows: (mark.detail as { rows: number }).rows } : null;
    });
    expect(rendered?.rows).toBeGreaterThan(0);
    const figures = { firstLoadScripts: scripts, firstLoadJsGzipBytes: gzipTotal, historyFirstPageRows: rendered!.rows, historyFirstPageRenderedMs: Math.round(rendered!.ms) };
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(path.join(ARTIFACTS, "console-figures.json"), JSON.stringify(figures, null, 2) + "\n");
    console.log(
      `console: first load ${(gzipTotal / 1024).toFixed(1)} KB gzip JS in ${scripts.length} files; history's first ${rendered!.rows} rows on screen ${Math.round(rendered!.ms)} ms after navigation start`,
    );
    await fresh.close();
  });
});
