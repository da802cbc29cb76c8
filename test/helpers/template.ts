import "reflect-metadata";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { seedDemo } from "../../src/seed/demo.js";

/**
 * The global setup seeds the template into a directory of its own per test run and passes its path
 * to the test workers in the environment (they are forked after the setup), so concurrent runs on
 * one machine never share or delete each other's template.
 */
const TEMPLATE_ENV = "RBS_TEST_TEMPLATE_DIR";

/** Seeds the demo once per test run into a template directory (called from the global setup). */
export async function buildTemplate(): Promise<string> {
  const TEMPLATE_ROOT = mkdtempSync(path.join(tmpdir(), "rbs-test-template-"));
  process.env[TEMPLATE_ENV] = TEMPLATE_ROOT;
  const config = loadConfig({ DATA_DIR: TEMPLATE_ROOT, SEED: "none", LOG_LEVEL: "silent" });
  const app = await createApp(config, createLogger("silent"));
  try {
    await seedDemo(app, { now: new Date() });
  } finally {
    await app.close();
  }
  return TEMPLATE_ROOT;
}

export function removeTemplate(): void {
  const dir = process.env[TEMPLATE_ENV];
  if (dir) rmSync(dir, { recursive: true, force: true });
}

export function templateDir(): string {
  const TEMPLATE_ROOT = process.env[TEMPLATE_ENV] ?? "";
  if (!TEMPLATE_ROOT || !existsSync(path.join(TEMPLATE_ROOT, "demo-tokens.json"))) throw new Error("test template missing: is test/global-setup.ts configured?");
  return TEMPLATE_ROOT;
}
