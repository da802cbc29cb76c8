import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeploymentStatus } from "../../../entities/enums.js";
import { formatDuration } from "../../../web/src/console/format.js";
import { mustRequest } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";
import { metricsProject, type MetricsProject } from "../../helpers/metrics-history.js";
import { launchBrowser, openContext, signIn, visit } from "../console/browser.js";

const DAY = 86_400_000;

/** The project overview in the console shows each tenant-environment's delivery metrics and the recurring rollbacks. */
describe("delivery metrics in the console", () => {
  const t = useTestServer();
  let m: MetricsProject;
  let browser: Browser;
  const rev: Record<string, string> = {};

  beforeAll(async () => {
    m = await metricsProject(t.app, "insight", ["staging", "production"]);
    const prod = await m.te("acme", "production");
    const now = Math.floor(Date.now() / 1000) * 1000;
    await m.importAt(prod, new Date(now - 40 * DAY));
    rev.r1 = await m.releaseAt(prod, new Date(now - 3 * DAY), "v1.1.0", DeploymentStatus.FAILED);
    rev.r2 = await m.releaseAt(prod, new Date(now - 3 * DAY + 45 * 60_000), "v1.1.1", DeploymentStatus.SUCCESS);
    rev.r3 = await m.releaseAt(prod, new Date(now - DAY), "v1.2.0", DeploymentStatus.PENDING);
    await mustRequest(t, m.tokens.deployer, { project: "insight", tenant: "acme", environment: "production", targetSha: rev.r2 });
    rev.r4 = await m.releaseAt(prod, new Date(), "v1.3.0", DeploymentStatus.PENDING);
    await mustRequest(t, m.tokens.deployer, { project: "insight", tenant: "acme", environment: "production", targetSha: rev.r2 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("a VIEWER reads deployments, failure rate, rollbacks, time to recovery and the recurring target", async () => {
    const api = await t.ok<{ deliveryMetrics: { environment: string; meanTimeToRecoverySeconds: number | null }[] }>(
      m.tokens.viewer,
      `{ deliveryMetrics(project:"insight"){ environment meanTimeToRecoverySeconds } }`,
    );
    const mttr = api.deliveryMetrics.find((d) => d.environment === "production")!.meanTimeToRecoverySeconds!;
    const c = await openContext(browser, t.url);
    try {
      const { page } = c;
      await signIn(page, t.url, m.tokens.viewer);
      await page.goto(`${t.url}/projects/insight`);
      const table = page.getByRole("table", { name: /^Delivery metrics, last 30 days/ });
      await table.waitFor();
      const cells = async (name: string) =>
        (
          await table
            .getByRole("row", { name: new RegExp(`^${name}`) })
            .getByRole("cell")
            .allTextContents()
        ).map((s) => s.trim());
      // r1..r4 in the period; r1 FAILED, r3 and r4 ROLLED_BACK: 3 of 4; two rollbacks.
      expect(await cells("acme / production")).toEqual(["4", "0.13", "75%", "2", formatDuration(mttr)]);
      expect(await cells("acme / staging")).toEqual(["0", "0", "—", "0", "—"]);
      const recurring = page.getByRole("table", { name: /^Recurring rollbacks/ });
      expect(
        (
          await recurring
            .getByRole("row", { name: /^acme \/ production/ })
            .getByRole("cell")
            .allTextContents()
        )
          .slice(0, 3)
          .map((s) => s.trim()),
      ).toEqual(["all (full rollback)", rev.r2!.slice(0, 7), "2"]);
      await visit(page, "overview-delivery-metrics");
      expect(c.blocked).toEqual([]);
      expect(c.errors).toEqual([]);
    } finally {
      await c.context.close();
    }
  });

  it("durations read as an operator says them", () => {
    expect([42, 2700, 29_700, 3600 * 50].map(formatDuration)).toEqual(["42 s", "45 min", "8 h 15 min", "2 d 2 h"]);
  });
});
