import { formatRelative, formatTime, humanize, shortSha } from "../format";

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span>—</span>;
  return (
    <time dateTime={iso} title={iso}>
      {formatTime(iso)} <span className="muted">({formatRelative(iso)})</span>
    </time>
  );
}

export function Revision({ sha }: { sha: string | null | undefined }) {
  if (!sha) return <span>—</span>;
  return (
    <code className="revision" title={sha}>
      {shortSha(sha)}
    </code>
  );
}

const TONE: Record<string, string> = {
  SUCCESS: "ok",
  COMPLETED: "ok",
  CONNECTED: "ok",
  SYNCED: "ok",
  Healthy: "ok",
  APPROVED: "info",
  EXECUTING: "info",
  PENDING: "warn",
  PROGRESSING: "warn",
  OUT_OF_SYNC: "warn",
  NEVER_SEEN: "muted",
  UNKNOWN: "muted",
  ROLLED_BACK: "muted",
  FAILED: "bad",
  REJECTED: "bad",
  UNREACHABLE: "bad",
  Degraded: "bad",
};

/** A state as a word (never colour alone), tinted by how good it is. */
export function Badge({ value }: { value: string | null | undefined }) {
  if (!value) return <span className="badge muted">—</span>;
  const label = /^[A-Z_]+$/.test(value) ? humanize(value) : value;
  return <span className={`badge ${TONE[value] ?? "muted"}`}>{label}</span>;
}
