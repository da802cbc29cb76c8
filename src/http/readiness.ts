import type { ServerResponse } from "node:http";
import { sendJson } from "./handler.js";

export interface ReadinessProbe {
  name: string;
  probe: () => Promise<unknown>;
}

export interface ReadinessOptions {
  /** How often the probes run. */
  intervalMs?: number;
  /** A result older than this means the checks themselves are stuck (a hung database, a blocked loop): not ready. */
  staleAfterMs?: number;
}

interface Snapshot {
  ok: boolean;
  checks: Record<string, string>;
  checkedAt: number;
}

/**
 * `/readyz` answered from the newest result of a background check instead of querying the
 * database and Git on the request path: under load a probe waiting behind hundreds of queries
 * would make an orchestrator pull a healthy replica out of service. The body carries the
 * result's age; a result older than `staleAfterMs` (the probes hang) answers 503.
 */
export class Readiness {
  private readonly intervalMs: number;
  private readonly staleAfterMs: number;
  private snapshot: Snapshot | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly probes: () => ReadinessProbe[],
    options: ReadinessOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.staleAfterMs = options.staleAfterMs ?? Math.max(5000, this.intervalMs * 5);
  }

  /** Runs the probes once (so the first answer is a real one), then every interval. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One round of the probes; a round still running is joined, never doubled. */
  refresh(): Promise<void> {
    this.running ??= this.check().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async check(): Promise<void> {
    const checks: Record<string, string> = {};
    let ok = true;
    for (const { name, probe } of this.probes()) {
      try {
        await probe();
        checks[name] = "ok";
      } catch (err) {
        ok = false;
        checks[name] = (err as Error).message.split("\n")[0]!;
      }
    }
    this.snapshot = { ok, checks, checkedAt: Date.now() };
  }

  /** The answer of `/readyz`: the newest result, its time and age. */
  answer(now = Date.now()): { status: number; body: { status: string; checks: Record<string, string>; checkedAt: string | null; ageMs: number | null } } {
    const s = this.snapshot;
    if (!s) return { status: 503, body: { status: "not ready", checks: {}, checkedAt: null, ageMs: null } };
    const ageMs = Math.max(0, now - s.checkedAt);
    const stale = ageMs > this.staleAfterMs;
    const checks = stale ? { ...s.checks, freshness: `the last check finished ${ageMs} ms ago` } : s.checks;
    const ok = s.ok && !stale;
    return { status: ok ? 200 : 503, body: { status: ok ? "ready" : "not ready", checks, checkedAt: new Date(s.checkedAt).toISOString(), ageMs } };
  }

  handle(res: ServerResponse): void {
    const { status, body } = this.answer();
    sendJson(res, status, body);
  }
}
