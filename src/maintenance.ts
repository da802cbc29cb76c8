import type { App } from "./app.js";

/**
 * Background upkeep of one server: closes expired break-glass sessions (so each expiry is
 * audited), settles rollback requests that a crash left APPROVED or EXECUTING, at start and periodically,
 * and announces agents that turned UNREACHABLE.
 */
export class Maintenance {
  private timers: NodeJS.Timeout[] = [];
  private running = new Set<Promise<unknown>>();

  constructor(private readonly app: App) {}

  async start(): Promise<void> {
    // At start nothing of this process is in flight; later passes leave a just-approved request
    // to the call that approved it for one interval.
    await this.reconcile(0);
    this.every(30, () => this.app.approvals.expireSessions());
    const interval = this.app.config.reconcileIntervalSeconds;
    this.every(interval, () => this.reconcile(interval * 1000));
    // Publish syncStatusChanged when an agent turns UNREACHABLE (checked at twice the
    // rate of AGENT_UNREACHABLE_AFTER, at most every 30 s), so live dashboards see it without a report.
    const after = this.app.config.agentUnreachableAfterSeconds;
    this.every(Math.min(30, Math.max(1, Math.ceil(after / 2))), () => this.app.sync.announceUnreachable());
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  private async reconcile(approvedIdleMs: number): Promise<void> {
    const result = await this.app.reconciler.reconcile({ approvedIdleMs });
    if (result.completed.length || result.failed.length || result.resumed.length) this.app.logger.warn(result, "reconciled interrupted rollback executions");
  }

  private every(seconds: number, task: () => Promise<unknown>): void {
    const timer = setInterval(() => {
      if (this.running.size > 0) return; // one round at a time
      const p = task()
        .catch((err) => this.app.logger.error({ err }, "maintenance task failed"))
        .finally(() => this.running.delete(p));
      this.running.add(p);
    }, seconds * 1000);
    timer.unref();
    this.timers.push(timer);
  }
}
