import type { CombinedError } from "@urql/core";

const absolute = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export function formatTime(iso: string): string {
  return absolute.format(new Date(iso));
}

/** "5 minutes ago", "in 42 minutes": an operator mid-incident thinks in minutes, not timestamps. */
export function formatRelative(iso: string, now = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return relative.format(seconds, "second");
  if (abs < 45 * 60) return relative.format(Math.round(seconds / 60), "minute");
  if (abs < 36 * 3600) return relative.format(Math.round(seconds / 3600), "hour");
  return relative.format(Math.round(seconds / 86400), "day");
}

export function shortSha(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 7) : "—";
}

/** A JSON field value as one line: strings unquoted, absent values named. */
export function formatValue(value: unknown): string {
  if (value === undefined || value === null) return "(absent)";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

export interface ApiErrorView {
  code: string | null;
  message: string;
}

/** Every error of a failed operation, as the API gave it (code and message), or the network failure. */
export function apiErrors(error: CombinedError | Error | string | null | undefined): ApiErrorView[] {
  if (!error) return [];
  if (typeof error === "string") return [{ code: null, message: error }];
  if ("graphQLErrors" in error && error.graphQLErrors.length > 0) {
    return error.graphQLErrors.map((e) => ({ code: (e.extensions?.code as string | undefined) ?? null, message: e.message }));
  }
  if ("networkError" in error && error.networkError) {
    return [{ code: "NETWORK", message: `cannot reach the server: ${error.networkError.message}` }];
  }
  return [{ code: null, message: error.message }];
}

export function humanize(value: string): string {
  return value.charAt(0) + value.slice(1).toLowerCase().replaceAll("_", " ");
}
