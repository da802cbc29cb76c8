import type { App } from "./app.js";

/**
 * Background upkeep of one server: closes expired break-glass sessions (so each expiry is
 * audited) and reconciles rollback executions that a crash interrupted, at start and periodically.
 */
export class Maintenance {
  private timers: NodeJS.Timeout[] = [];
  private running = new Set<Promise<unknown>>();

  constructor(private readonly app: App) {}

  async start(): Promise<void> {
    await this.reconcile();
    this.every(30, () => this.app.approvals.expireSessions());
    this.every(this.app.config.reconcileIntervalSeconds, () => this.reconcile());
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  private async reconcile(): Promise<void> {
    const result = await this.app.rollbacks.reconcile();
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
