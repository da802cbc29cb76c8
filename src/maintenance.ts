import type { App } from "./app.js";

/**
 * Background upkeep of one server: closes expired break-glass sessions (so each expiry is
 * audited), reconciles rollback executions that a crash interrupted, at start and periodically,
 * and announces agents that turned UNREACHABLE.
 */
export class Maintenance {
  private timers: NodeJS.Timeout[] = [];
  private running = new Set<Promise<unknown>>();

  constructor(private readonly app: App) {}

  async start(): Promise<void> {
    await this.reconcile();
    this.every(30, () => this.app.approvals.expireSessions());
    this.every(this.app.config.reconcileIntervalSeconds, () => this.reconcile());
    // Publish syncStatusChanged when an agent turns UNREACHABLE (checked at twice the
    // rate of AGENT_UNREACHABLE_AFTER, at most every 30 s), so live dashboards see it without a report.
    const after = this.app.config.agentUnreachableAfterSeconds;
    this.every(Math.min(30, Math.max(1, Math.ceil(after / 2))), () => this.app.sync.announceUnreachable());
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  private async reconcile(): Promise<void> {
    const result = await this.app.reconciler.reconcile();
    if (result.completed.length || result.failed.length) this.app.logger.warn(result, "reconciled interrupted rollback executions");
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
