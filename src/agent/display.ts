import type { DriftItem } from "./manifests.js";

/** The latest outcome for one tenant-environment. */
export interface EnvironmentLine {
  name: string;
  state: string;
  health: string | null;
  revision: string | null;
  at: Date;
  drift: DriftItem[];
  /** The failing workload that made it Degraded (--degraded-service), e.g. "Deployment api-gateway (…:v2.1.0)". */
  degraded?: string | null;
  error: string | null;
}

export function formatTime(at: Date): string {
  return at.toTimeString().slice(0, 8);
}

/** `acme/production  SYNCED       Healthy   3f2a1b7  12:04:05  drift: 1 (Deployment api-gateway spec.replicas 3 → 4)` */
export function formatLine(line: EnvironmentLine, nameWidth: number): string {
  const cols = [
    line.name.padEnd(nameWidth),
    (line.error ? "ERROR" : line.state).padEnd(11),
    (line.health ?? "-").padEnd(9),
    line.revision ? line.revision.slice(0, 7) : "-------",
    formatTime(line.at),
  ];
  let text = cols.join("  ");
  if (line.error) text += `  ${line.error}`;
  else if (line.degraded) text += `  degraded: ${line.degraded}`;
  if (!line.error && line.drift.length > 0) {
    const first = line.drift[0]!;
    const what = `${first.kind} ${first.name}${first.field ? ` ${first.field}` : ""} ${show(first.desired)} → ${show(first.actual)}`;
    text += `  drift: ${line.drift.length} (${what}${line.drift.length > 1 ? ", ..." : ""})`;
  }
  return text;
}

function show(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/**
 * One status line per tenant-environment. On a terminal the block is redrawn in place each
 * interval; otherwise (a pipe, a log file) every round prints plain lines.
 */
export class StatusBoard {
  private drawn = 0;

  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {}

  get tty(): boolean {
    return Boolean(this.out.isTTY);
  }

  render(lines: EnvironmentLine[]): void {
    const width = Math.max(0, ...lines.map((l) => l.name.length));
    const text = lines.map((l) => formatLine(l, width));
    if (this.tty) {
      const columns = this.out.columns || 200;
      let buf = this.drawn > 0 ? `\x1b[${this.drawn}F` : "";
      for (const t of text) buf += `\x1b[2K${t.length > columns ? `${t.slice(0, columns - 1)}…` : t}\n`;
      // Lines of an earlier, longer block (filters do not change, but be tidy).
      for (let i = text.length; i < this.drawn; i++) buf += "\x1b[2K\n";
      this.out.write(buf);
      this.drawn = Math.max(text.length, this.drawn);
    } else {
      this.out.write(`${text.join("\n")}\n`);
    }
  }

  message(text: string): void {
    this.out.write(`${text}\n`);
    this.drawn = 0;
  }
}
