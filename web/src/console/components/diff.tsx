import { formatValue } from "../format";

export interface FieldChangeView {
  file: string;
  path: string;
  kind: string;
  selector?: string | null;
  before?: unknown;
  after?: unknown;
}

export interface FileDiffView {
  path: string;
  kind: string;
  patch: string;
}

export interface ImpactView {
  services: number;
  bindings: number;
  variables: number;
  fields: number;
  files: number;
}

/** Each changed field with its value before → after, as a table a screen reader can walk. */
export function FieldChanges({
  caption,
  changes,
  beforeLabel = "Before",
  afterLabel = "After",
}: {
  caption: string;
  changes: FieldChangeView[];
  beforeLabel?: string;
  afterLabel?: string;
}) {
  if (changes.length === 0) return <p className="empty">No field changes.</p>;
  return (
    <table className="changes">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Change</th>
          <th scope="col">{beforeLabel}</th>
          <th scope="col">{afterLabel}</th>
        </tr>
      </thead>
      <tbody>
        {changes.map((c) => (
          <tr key={`${c.file}:${c.path}`}>
            <th scope="row">
              <code>{c.selector ?? `${c.file}:${c.path}`}</code>
            </th>
            <td>{c.kind.toLowerCase()}</td>
            <td>
              <code className="before">{formatValue(c.before)}</code>
            </td>
            <td>
              <span aria-hidden="true">→ </span>
              <code className="after">{formatValue(c.after)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface DiffLine {
  kind: "add" | "del" | "ctx" | "hunk";
  text: string;
  oldNo: number | null;
  newNo: number | null;
}

/** Splits a unified diff into numbered lines (file headers dropped: the path is the heading). */
function parsePatch(patch: string): DiffLine[] {
  const lines: DiffLine[] = [];
  let oldNo = 0;
  let newNo = 0;
  for (const raw of patch.split("\n")) {
    if (raw.startsWith("---") || raw.startsWith("+++") || raw.startsWith("Index:") || raw.startsWith("====")) continue;
    const hunk = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(raw);
    if (hunk) {
      oldNo = Number(hunk[1]);
      newNo = Number(hunk[2]);
      lines.push({ kind: "hunk", text: raw, oldNo: null, newNo: null });
    } else if (raw.startsWith("+")) lines.push({ kind: "add", text: raw.slice(1), oldNo: null, newNo: newNo++ });
    else if (raw.startsWith("-")) lines.push({ kind: "del", text: raw.slice(1), oldNo: oldNo++, newNo: null });
    else if (raw.startsWith(" ")) lines.push({ kind: "ctx", text: raw.slice(1), oldNo: oldNo++, newNo: newNo++ });
  }
  return lines;
}

const MARK = { add: "+", del: "−", ctx: " ", hunk: "" } as const;
const SPOKEN = { add: "added", del: "removed", ctx: "", hunk: "" } as const;

/** A file's unified diff inline: additions and removals marked by sign, word (for screen readers) and colour. */
export function FileDiffBlock({ diff }: { diff: FileDiffView }) {
  const lines = parsePatch(diff.patch);
  const added = lines.filter((l) => l.kind === "add").length;
  const removed = lines.filter((l) => l.kind === "del").length;
  return (
    <details className="file-diff" open>
      <summary>
        <code>{diff.path}</code> <span className="muted">({diff.kind.toLowerCase()})</span> <span className="adds">+{added}</span> <span className="dels">−{removed}</span>
      </summary>
      <table className="diff">
        <caption className="visually-hidden">Unified diff of {diff.path}</caption>
        <thead className="visually-hidden">
          <tr>
            <th scope="col">Old line</th>
            <th scope="col">New line</th>
            <th scope="col">Change</th>
            <th scope="col">Content</th>
          </tr>
        </thead>
        <tbody>
          {lines.map((line, i) => (
            <tr key={i} className={`line-${line.kind}`}>
              <td className="ln">{line.oldNo ?? ""}</td>
              <td className="ln">{line.newNo ?? ""}</td>
              <td className="mark">
                <span aria-hidden="true">{MARK[line.kind]}</span>
                {SPOKEN[line.kind] ? <span className="visually-hidden">{SPOKEN[line.kind]}</span> : null}
              </td>
              <td className="code">
                <code>{line.text}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

export function ImpactCounts({ impact, label = "Impact summary" }: { impact: ImpactView; label?: string }) {
  const items: [string, number][] = [
    ["Services", impact.services],
    ["Bindings", impact.bindings],
    ["Variables", impact.variables],
    ["Fields", impact.fields],
    ["Files", impact.files],
  ];
  return (
    <section aria-label={label} className="impact">
      <dl>
        {items.map(([name, count]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd>{count}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

/** Per-service field changes and file diffs, then environment-level ones: the body of a comparison or a preview. */
export function ChangeSet({
  services,
  environmentChanges,
  environmentFiles,
  beforeLabel,
  afterLabel,
}: {
  services: { service: string; changes: FieldChangeView[]; files: FileDiffView[] }[];
  environmentChanges: FieldChangeView[];
  environmentFiles: FileDiffView[];
  beforeLabel?: string;
  afterLabel?: string;
}) {
  return (
    <>
      {services.length === 0 && environmentChanges.length === 0 && environmentFiles.length === 0 ? <p className="empty">No differences.</p> : null}
      {services.map((s) => (
        <section key={s.service} className="service-diff" aria-labelledby={`svc-${s.service}`}>
          <h3 id={`svc-${s.service}`}>Service {s.service}</h3>
          <FieldChanges caption={`Changed fields of ${s.service}`} changes={s.changes} beforeLabel={beforeLabel} afterLabel={afterLabel} />
          {s.files.map((f) => (
            <FileDiffBlock key={f.path} diff={f} />
          ))}
        </section>
      ))}
      {environmentChanges.length > 0 || environmentFiles.length > 0 ? (
        <section className="service-diff" aria-labelledby="env-changes">
          <h3 id="env-changes">Environment-level changes</h3>
          <FieldChanges caption="Changed environment fields" changes={environmentChanges} beforeLabel={beforeLabel} afterLabel={afterLabel} />
          {environmentFiles.map((f) => (
            <FileDiffBlock key={f.path} diff={f} />
          ))}
        </section>
      ) : null}
    </>
  );
}
