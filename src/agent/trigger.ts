/**
 * When the agent's next sync round starts: after the interval, or at once when fired (a new
 * deployment was announced). Fires during a round are kept, so a rollback committed while the
 * agent was busy still gets its round right after.
 */
export class RoundTrigger {
  private fired = false;
  private wakeUp: (() => void) | null = null;

  fire(): void {
    this.fired = true;
    this.wakeUp?.();
  }

  /** Forgets earlier fires: the round about to start covers them. */
  reset(): void {
    this.fired = false;
  }

  /** Resolves true when the next round is due, false when `signal` aborted. */
  wait(ms: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.fired) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (due: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.wakeUp = null;
        resolve(due);
      };
      const onAbort = () => finish(false);
      const timer = setTimeout(() => finish(true), ms);
      signal.addEventListener("abort", onAbort, { once: true });
      this.wakeUp = () => finish(true);
    });
  }
}
