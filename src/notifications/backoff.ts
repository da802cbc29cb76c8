/**
 * When to try a failed delivery again: exponential backoff with jitter. After the n-th failed
 * attempt the delay is base * 2^(n-1), spread by ±25 % so receivers coming back are not hit by
 * every server at the same instant; a Retry-After the receiver sent is honoured (up to an hour).
 * With the defaults (30 s, 8 attempts) the seven waits add up to about an hour. A formula, not a
 * library: retry libraries loop in memory, and these retries must survive restarts in the database.
 */
export function retryDelayMs(failedAttempts: number, baseMs: number, options: { random?: () => number; retryAfterMs?: number | null } = {}): number {
  const random = options.random ?? Math.random;
  const exponential = baseMs * 2 ** Math.max(0, failedAttempts - 1);
  const jittered = Math.round(exponential * (0.75 + 0.5 * random()));
  const asked = options.retryAfterMs ? Math.min(options.retryAfterMs, 3_600_000) : 0;
  return Math.max(jittered, asked);
}

/** Retry-After as seconds or an HTTP date, in milliseconds from `now`; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
