import { diffLines } from "diff";
import { describe, expect, it } from "vitest";
import { patchYamlFields, setYamlFields } from "../../../src/yaml/patch.js";
import { parseFieldSelector } from "../../../src/yaml/selectors.js";
import { lookup, parseYamlRecord } from "../../../src/yaml/values.js";
import { TRICKY_VALUES } from "../../helpers/yaml-fixtures.js";

/**
 * Golden tests of the FIELD-mode patch: patchYamlFields must change only the
 * selected fields of hand-written YAML and keep every other byte (comments, key order, quoting,
 * spacing, flow style, block scalars, line endings).
 */

/** What the planner does for one file: each selected field takes its value (or absence) at the target. */
function rollbackFields(head: string, target: string, selectors: string[]): string {
  const targetData = parseYamlRecord(target);
  const edits = selectors.map((raw) => {
    const { segments } = parseFieldSelector(raw);
    return { segments, target: lookup(targetData, segments) };
  });
  return patchYamlFields(head, edits, target);
}

/** The parsed head with the selected fields set to their target values: what the result must mean. */
function expectedMeaning(head: string, target: string, selectors: string[]): unknown {
  const data = structuredClone(parseYamlRecord(head)) as Record<string, unknown>;
  const targetData = parseYamlRecord(target);
  const removals: string[][] = [];
  for (const raw of selectors) {
    const { segments } = parseFieldSelector(raw);
    const at = lookup(targetData, segments);
    if (!at.exists) {
      removals.push(segments);
      continue;
    }
    let node = data as Record<string, unknown>;
    for (const seg of segments.slice(0, -1)) {
      if (node[seg] === undefined || node[seg] === null) node[seg] = {};
      node = node[seg] as Record<string, unknown>;
    }
    node[segments.at(-1)!] = structuredClone(at.value);
  }
  // Remove later list items first, so indexes mean what they meant in the head.
  removals.sort((a, b) => Number(b.at(-1)) - Number(a.at(-1)) || 0);
  for (const segments of removals) {
    let node: unknown = data;
    for (const seg of segments.slice(0, -1)) node = (node as Record<string, unknown>)[seg];
    if (Array.isArray(node)) node.splice(Number(segments.at(-1)), 1);
    else if (node && typeof node === "object") delete (node as Record<string, unknown>)[segments.at(-1)!];
  }
  return data;
}

/** Lines removed and added between two texts. */
function changedLines(before: string, after: string): { removed: string[]; added: string[] } {
  const removed: string[] = [];
  const added: string[] = [];
  for (const part of diffLines(before, after)) {
    const lines = part.value.replace(/\n$/, "").split("\n");
    if (part.removed) removed.push(...lines);
    if (part.added) added.push(...lines);
  }
  return { removed, added };
}

function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`fixture: "${from}" must occur exactly once`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

const TARGET = TRICKY_VALUES;

const TAG = ["  tag: 'v1.4.2'    # pinned after INC-1234", "  tag: 'v2.0.0'    # pinned after INC-1234"] as const;
const REPLICAS = ["replicas:   3   # odd spacing on purpose", "replicas:   5   # odd spacing on purpose"] as const;
const RESOURCES = [
  'resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: "500m", memory: 512Mi}}',
  'resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: "750m", memory: 512Mi}}',
] as const;
const ENV_VALUE = ['  value: "api-gateway"', '  value: "api-gw"'] as const;
const EXTRA = "extra:    true   # added after the target";
const HOST_C = "    - c.example.com";
const PROBES = "probes:\n  path: /healthz   # readiness\n";
const FOLDED = ["    folded text\n    over two lines\n", "    changed folded\n    text\n"] as const;

/** The head: every kind of change since the target, each on its own lines. */
let HEAD = TARGET;
HEAD = replaceOnce(HEAD, TAG[0], TAG[1]);
HEAD = replaceOnce(HEAD, REPLICAS[0], REPLICAS[1]);
HEAD = replaceOnce(HEAD, RESOURCES[0], RESOURCES[1]);
HEAD = replaceOnce(HEAD, ENV_VALUE[0], ENV_VALUE[1]);
HEAD = replaceOnce(HEAD, "port: 8080\n", `port: 8080\n${EXTRA}\n`);
HEAD = replaceOnce(HEAD, `${HOST_C}\n`, "");
HEAD = replaceOnce(HEAD, PROBES, "");
HEAD = replaceOnce(HEAD, FOLDED[0], FOLDED[1]);

describe("patchYamlFields on hand-written YAML", () => {
  it("the fixture pair differs in every field the tests select", () => {
    const h = parseYamlRecord(HEAD);
    const t = parseYamlRecord(TARGET);
    for (const sel of ["image.tag", "replicas", "resources.limits.cpu", "env.1.value", "extra", "hosts.2", "probes", "annotations.description"]) {
      const { segments } = parseFieldSelector(sel);
      expect(JSON.stringify(lookup(h, segments)), sel).not.toBe(JSON.stringify(lookup(t, segments)));
    }
  });

  const scalarCases: [string, string, string][] = [
    ["image.tag (single-quoted, trailing comment)", "image.tag", replaceOnce(HEAD, TAG[1], TAG[0])],
    ["replicas (odd spacing around value and comment)", "replicas", replaceOnce(HEAD, REPLICAS[1], REPLICAS[0])],
    ["resources.limits.cpu (inside a flow mapping)", "resources.limits.cpu", replaceOnce(HEAD, RESOURCES[1], RESOURCES[0])],
    ["env.1.value (array index in an indentless sequence)", "env.1.value", replaceOnce(HEAD, ENV_VALUE[1], ENV_VALUE[0])],
    ["image (a subtree whose only difference is one scalar)", "image", replaceOnce(HEAD, TAG[1], TAG[0])],
    ["values:image.tag (explicit file prefix)", "values:image.tag", replaceOnce(HEAD, TAG[1], TAG[0])],
  ];
  for (const [name, selector, expected] of scalarCases) {
    it(`changes only the selected line: ${name}`, () => {
      const out = rollbackFields(HEAD, TARGET, [selector.replace(/^values:/, "")]);
      expect(out).toBe(expected);
      const { removed, added } = changedLines(HEAD, out);
      expect(removed).toHaveLength(1);
      expect(added).toHaveLength(1);
    });
  }

  it("removes a field that did not exist at the target: exactly its line goes", () => {
    const out = rollbackFields(HEAD, TARGET, ["extra"]);
    expect(out).toBe(replaceOnce(HEAD, `${EXTRA}\n`, ""));
    expect(changedLines(HEAD, out)).toEqual({ removed: [EXTRA], added: [] });
  });

  it("adds back a list item removed since the target (hosts.2), in the list's own indentation", () => {
    const out = rollbackFields(HEAD, TARGET, ["hosts.2"]);
    expect(out).toBe(replaceOnce(HEAD, "    - b.example.com   # over-indented\n", `    - b.example.com   # over-indented\n${HOST_C}\n`));
    expect(changedLines(HEAD, out)).toEqual({ removed: [], added: [HOST_C] });
  });

  it("adds back a subtree removed since the target (probes): only added lines, every other byte kept", () => {
    const out = rollbackFields(HEAD, TARGET, ["probes"]);
    const { removed, added } = changedLines(HEAD, out);
    expect(removed).toEqual([]);
    expect(added.length).toBe(2);
    expect(added[0]).toBe("probes:");
    expect(added[1]).toMatch(/^ {2}path: \/healthz\b/);
    expect(parseYamlRecord(out)).toEqual(expectedMeaning(HEAD, TARGET, ["probes"]));
    expect(parseYamlRecord(out).probes).toEqual({ path: "/healthz" });
  });

  it("adds back a leaf whose parent is gone too (probes.path) the same way", () => {
    const out = rollbackFields(HEAD, TARGET, ["probes.path"]);
    expect(changedLines(HEAD, out).removed).toEqual([]);
    expect(parseYamlRecord(out)).toEqual(expectedMeaning(HEAD, TARGET, ["probes.path"]));
  });

  it("restores a folded block scalar and touches no line outside it", () => {
    const out = rollbackFields(HEAD, TARGET, ["annotations.description"]);
    expect(out).toBe(replaceOnce(HEAD, FOLDED[1], FOLDED[0]));
  });

  it("applies several selections at once, each only on its own lines", () => {
    const selectors = ["image.tag", "extra", "hosts.2", "replicas", "env.1.value"];
    const out = rollbackFields(HEAD, TARGET, selectors);
    let expected = replaceOnce(HEAD, TAG[1], TAG[0]);
    expected = replaceOnce(expected, `${EXTRA}\n`, "");
    expected = replaceOnce(expected, "    - b.example.com   # over-indented\n", `    - b.example.com   # over-indented\n${HOST_C}\n`);
    expected = replaceOnce(expected, REPLICAS[1], REPLICAS[0]);
    expected = replaceOnce(expected, ENV_VALUE[1], ENV_VALUE[0]);
    expect(out).toBe(expected);
  });

  it("rolling back every changed field gives the target's meaning; fields not selected keep the head's value", () => {
    const all = ["image.tag", "replicas", "resources.limits.cpu", "env.1.value", "extra", "hosts.2", "probes", "annotations.description"];
    const out = rollbackFields(HEAD, TARGET, all);
    expect(parseYamlRecord(out)).toEqual(parseYamlRecord(TARGET));
    const some = rollbackFields(HEAD, TARGET, ["image.tag", "probes"]);
    const meaning = parseYamlRecord(some);
    expect(meaning.replicas).toBe(5);
    expect(meaning.extra).toBe(true);
    expect((meaning.hosts as string[]).length).toBe(2);
    expect(meaning).toEqual(expectedMeaning(HEAD, TARGET, ["image.tag", "probes"]));
  });

  it("removes two list items added since the target (env.2 and env.3): indexes mean the head's items", () => {
    const head = replaceOnce(TARGET, '  value: "api-gateway"\n', '  value: "api-gateway"\n- name: A\n  value: "1"\n- name: B   # second\n  value: "2"\n');
    const out = rollbackFields(head, TARGET, ["env.2", "env.3"]);
    expect(out).toBe(TARGET);
    const reversed = rollbackFields(head, TARGET, ["env.3", "env.2"]);
    expect(reversed).toBe(TARGET);
  });

  it("removes a nested field and the parent it leaves empty when the target had neither", () => {
    const head = replaceOnce(TARGET, "port: 8080\n", "port: 8080\nsidecar:\n  image: envoy:1.30   # added later\n");
    const out = rollbackFields(head, TARGET, ["sidecar.image"]);
    expect(out).toBe(TARGET);
  });

  it("quotes a restored string that would otherwise read as another type", () => {
    const head = "flags:\n  enabled: maybe   # tri-state\n  other: 1\n";
    const target = 'flags:\n  enabled: "true"\n  other: 1\n';
    const out = rollbackFields(head, target, ["flags.enabled"]);
    expect(parseYamlRecord(out)).toEqual({ flags: { enabled: "true", other: 1 } });
    const { removed, added } = changedLines(head, out);
    expect(removed).toEqual(["  enabled: maybe   # tri-state"]);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/^ {2}enabled: ["']true["'] {3}# tri-state$/);
  });

  it("restores a number over a quoted string and a value over an empty one", () => {
    const head = 'replicas: "5"\nextra:\nlast: 1\n';
    const target = "replicas: 3\nextra: 7\nlast: 1\n";
    expect(rollbackFields(head, target, ["replicas"])).toBe("replicas: 3\nextra:\nlast: 1\n");
    const out = rollbackFields(head, target, ["extra"]);
    expect(parseYamlRecord(out)).toEqual({ replicas: "5", extra: 7, last: 1 });
    expect(changedLines(head, out).removed).toEqual(["extra:"]);
  });

  it("keeps CRLF line endings, on splices, removals and additions", () => {
    const crlf = (s: string) => s.replace(/\n/g, "\r\n");
    const head = crlf(HEAD);
    const target = crlf(TARGET);
    expect(rollbackFields(head, target, ["image.tag"])).toBe(crlf(replaceOnce(HEAD, TAG[1], TAG[0])));
    expect(rollbackFields(head, target, ["extra"])).toBe(crlf(replaceOnce(HEAD, `${EXTRA}\n`, "")));
    const added = rollbackFields(head, target, ["probes"]);
    expect(added.replace(/\r\n/g, "")).not.toContain("\n");
    expect(added.startsWith(head)).toBe(true);
    expect(parseYamlRecord(added)).toEqual(expectedMeaning(HEAD, TARGET, ["probes"]));
  });

  it("adds a field to a file without a final newline", () => {
    const out = rollbackFields("a: 1   # one\nb: 2", "a: 1\nb: 2\nc: 3\n", ["c"]);
    expect(out.startsWith("a: 1   # one\nb: 2\n")).toBe(true);
    expect(parseYamlRecord(out)).toEqual({ a: 1, b: 2, c: 3 });
  });

  it("writes the selected field into a file the head does not have", () => {
    const out = rollbackFields("", "# vars\nLOG_LEVEL: info\nOTHER: x\n", ["LOG_LEVEL"]);
    expect(parseYamlRecord(out)).toEqual({ LOG_LEVEL: "info" });
  });

  it("changes nothing when the selected field already has the target's value", () => {
    expect(rollbackFields(HEAD, TARGET, ["port"])).toBe(HEAD);
    expect(rollbackFields(HEAD, TARGET, ["resources.requests"])).toBe(HEAD);
  });
});

describe("setYamlFields (deployments) keeps hand-written formatting", () => {
  it("sets scalars in place", () => {
    const out = setYamlFields(TARGET, [
      { segments: ["image", "tag"], value: "v2.0.0" },
      { segments: ["resources", "limits", "cpu"], value: "750m" },
    ]);
    let expected = replaceOnce(TARGET, TAG[0], TAG[1]);
    expected = replaceOnce(expected, RESOURCES[0], RESOURCES[1]);
    expect(out).toBe(expected);
  });

  it("adds a new key to a nested map and to the top level, touching no other line", () => {
    const out = setYamlFields(TARGET, [
      { segments: ["image", "digest"], value: "sha256:abc" },
      { segments: ["newkey"], value: 1 },
    ]);
    const { removed, added } = changedLines(TARGET, out);
    expect(removed).toEqual([]);
    expect(added).toEqual(["  digest: sha256:abc", "newkey: 1"]);
    expect(out).toBe(`${replaceOnce(TARGET, `${TAG[0]}\n`, `${TAG[0]}\n  digest: sha256:abc\n`)}newkey: 1\n`);
  });
});

describe("overlapping selections", () => {
  it("a field and its parent selected together change the line once", () => {
    expect(rollbackFields(HEAD, TARGET, ["image", "image.tag"])).toBe(replaceOnce(HEAD, TAG[1], TAG[0]));
  });

  it("a removed subtree and a field inside it selected together remove the subtree's lines once", () => {
    const head = replaceOnce(TARGET, "port: 8080\n", "port: 8080\nsidecar:\n  image: envoy:1.30\n  port: 9901\n");
    expect(rollbackFields(head, TARGET, ["sidecar", "sidecar.port"])).toBe(TARGET);
  });

  it("replaces the last entry of a map and adds one after it in the same patch", () => {
    const head = "image:\n  repository: r   # repo\n  extra: 1\nreplicas: 2\n";
    const target = "image:\n  repository: r\n  digest: sha256:abc\nreplicas: 2\n";
    const out = rollbackFields(head, target, ["image"]);
    expect(out).toBe("image:\n  repository: r   # repo\n  digest: sha256:abc\nreplicas: 2\n");
  });
});

describe("edits the line-level splices do not cover change only the enclosing entry", () => {
  it("a value that changes kind (scalar to map) rewrites only that entry", () => {
    const head = replaceOnce(TARGET, "probes:\n  path: /healthz   # readiness\n", "probes: disabled   # for now\n");
    const out = rollbackFields(head, TARGET, ["probes"]);
    const { removed, added } = changedLines(head, out);
    expect(removed).toEqual(["probes: disabled   # for now"]);
    expect(added[0]).toBe("probes:");
    expect(added).toHaveLength(2);
    expect(parseYamlRecord(out)).toEqual(parseYamlRecord(TARGET));
  });

  it("a key added inside a flow mapping changes that one line only", () => {
    const target = replaceOnce(TARGET, 'limits: {cpu: "500m", memory: 512Mi}', 'limits: {cpu: "500m", memory: 512Mi, ephemeral: 1Gi}');
    const out = rollbackFields(TARGET, target, ["resources.limits.ephemeral"]);
    const { removed, added } = changedLines(TARGET, out);
    expect(removed).toEqual([RESOURCES[0]]);
    expect(added).toHaveLength(1);
    expect(parseYamlRecord(out)).toEqual(parseYamlRecord(target));
  });

  it("an item removed from a multi-line flow sequence changes only that entry's lines", () => {
    const head = replaceOnce(TARGET, "  gpu\n]", "  gpu, fpga\n]");
    const out = rollbackFields(head, TARGET, ["tolerations.3"]);
    expect(parseYamlRecord(out)).toEqual(parseYamlRecord(TARGET));
    expect(out.startsWith(head.slice(0, head.indexOf("tolerations:")))).toBe(true);
  });

  it("a first key of a list item's map removed since the target: the item is rewritten, nothing else", () => {
    const head = replaceOnce(TARGET, "- name: SERVICE_NAME\n", "- pre: x\n  name: SERVICE_NAME\n");
    const out = rollbackFields(head, TARGET, ["env.1.pre"]);
    expect(parseYamlRecord(out)).toEqual(parseYamlRecord(TARGET));
    const { removed } = changedLines(head, out);
    expect(removed.every((l) => /pre: x|name: SERVICE_NAME|value: "api-gateway"/.test(l))).toBe(true);
  });

  it("aliases in the target do not break the patch", () => {
    const target = "base: &b\n  cpu: 1\nlimits: *b\nother: 1\n";
    const head = "base: &b\n  cpu: 1\nlimits:\n  cpu: 2\nother: 1   # keep\n";
    const out = rollbackFields(head, target, ["limits"]);
    expect(parseYamlRecord(out)).toEqual({ base: { cpu: 1 }, limits: { cpu: 1 }, other: 1 });
    expect(out).toContain("other: 1   # keep\n");
  });
});
