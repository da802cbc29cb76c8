/**
 * Real Chromium for the console's tests: Debian's binary driven by playwright-core, with every
 * request that is not to the local server blocked and recorded (the console must work air-gapped),
 * axe-core checks, and screenshots kept as test artifacts.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { expect } from "vitest";

export const ARTIFACTS = path.resolve("test-results", "console");

const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: CHROMIUM_ARGS });
}

export interface ConsoleContext {
  context: BrowserContext;
  page: Page;
  /** Every request to anywhere but the server under test (each one was aborted). */
  blocked: string[];
  /** Uncaught page errors and console errors. */
  errors: string[];
}

/** A fresh browser context (its own sessionStorage) that can reach only `baseUrl`. */
export async function openContext(browser: Browser, baseUrl: string): Promise<ConsoleContext> {
  const origin = new URL(baseUrl).origin;
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, reducedMotion: "reduce" });
  const blocked: string[] = [];
  const errors: string[] = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    blocked.push(url);
    return route.abort("blockedbyclient");
  });
  await context.routeWebSocket(/.*/, (ws) => {
    if (new URL(ws.url()).host === new URL(origin).host) return ws.connectToServer();
    blocked.push(ws.url());
    return ws.close();
  });
  const page = await context.newPage();
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  return { context, page, blocked, errors };
}

/** Signs in through the sign-in form, as a user pastes a token. */
export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(baseUrl + "/");
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect.poll(() => page.getByRole("heading", { level: 1 }).first().textContent()).not.toBe("Rollback console");
}

/** No axe-core violation of serious or critical impact on the page as it is now. */
export async function expectAccessible(page: Page, label: string, only?: string): Promise<void> {
  const builder = new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]);
  if (only) builder.include(only);
  const results = await builder.analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = bad
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes
          .slice(0, 3)
          .map((n) => n.target.join(" "))
          .join("\n  ")}`,
    )
    .join("\n");
  expect(bad, `axe on ${label}:\n${report}`).toEqual([]);
}

export async function screenshot(page: Page, name: string, fullPage = true): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

/** Checks the page, saves its screenshot: what every test does on every page it visits. */
export async function visit(page: Page, name: string): Promise<void> {
  await expectAccessible(page, name);
  await screenshot(page, name);
}
