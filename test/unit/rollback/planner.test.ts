import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RollbackMode } from "../../../entities/enums.js";
import { renderFromFiles } from "../../../src/delivery/renderer.js";
import type { ProjectRepository, TreeWrite } from "../../../src/git/git-store.js";
import { NodegitStore } from "../../../src/git/nodegit-store.js";
import { findConflicts, parseFieldSelection, planRollback } from "../../../src/rollback/planner.js";
import { parseFieldSelector } from "../../../src/yaml/selectors.js";

const DIR = "tenants/acme/dev";
const author = { name: "Test", email: "test@example.com" };

/** A service's three source files and the manifest rendered from them. */
function service(name: string, tag: string, replicas: number): TreeWrite[] {
  const files = new Map<string, string>([
    ["values.yaml", `# ${name}\nimage:\n  tag: "${tag}"   # pinned\nreplicas: ${replicas}\n`],
    ["bindings.yaml", "labels:\n  team: platform\n"],
    ["variables.yaml", "LOG_LEVEL: info\n"],
  ]);
  return [
    ...[...files].map(([file, content]) => ({ type: "file" as const, path: `${DIR}/services/${name}/${file}`, content })),
    { type: "file", path: `${DIR}/rendered/${name}.yaml`, content: renderFromFiles("acme", "dev", name, files) },
  ];
}

describe("the rollback planner", () => {
  let root: string;
  let repo: ProjectRepository;
  let target: string;
  let head: string;

  const plan = (mode: RollbackMode, extra: { service?: string; fields?: string[] } = {}) =>
    planRollback({ repo, tenant: "acme", environment: "dev", mode, head, target, service: extra.service, fields: (extra.fields ?? []).map((f) => parseFieldSelector(f)) });

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), "rbs-unit-planner-"));
    repo = await new NodegitStore({ root }).open("planner");
    const commit = async (writes: TreeWrite[], message: string) => (await repo.commit({ base: await repo.head(), writes, message, author })).sha;
    target = await commit([{ type: "file", path: `${DIR}/env.yaml`, content: "cluster: dev\n" }, ...service("web", "v1", 1), ...service("auth", "v1", 1)], "target");
    await commit(service("web", "v2", 3), "web moves on");
    head = await commit([...service("auth", "v2", 1), { type: "file", path: `${DIR}/env.yaml`, content: "cluster: dev-2\n" }], "auth and env.yaml move on");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("FULL swaps the whole directory back and lists every changed file", async () => {
    const p = await plan(RollbackMode.FULL);
    expect(p.writes).toEqual([{ type: "copy", path: DIR, revision: target }]);
    expect(p.guardPaths).toEqual([DIR]);
    expect(p.files.map((f) => f.path).sort()).toEqual(["env.yaml", "rendered/auth.yaml", "rendered/web.yaml", "services/auth/values.yaml", "services/web/values.yaml"]);
    expect(p.affectedServices).toEqual(["auth", "web"]);
    expect(p.comparison.environmentChanges).toEqual([expect.objectContaining({ file: "env.yaml", path: "cluster", before: "dev-2", after: "dev" })]);
  });

  it("SERVICE restores one service's folder and manifest, nothing else", async () => {
    const p = await plan(RollbackMode.SERVICE, { service: "web" });
    expect(p.writes).toEqual([
      { type: "copy", path: `${DIR}/services/web`, revision: target },
      { type: "copy", path: `${DIR}/rendered/web.yaml`, revision: target },
    ]);
    expect(p.files.map((f) => f.path).sort()).toEqual(["rendered/web.yaml", "services/web/values.yaml"]);
    expect(p.affectedServices).toEqual(["web"]);
  });

  it("FIELD patches only the selected field, keeping the line's comment, and renders the manifest again", async () => {
    const p = await plan(RollbackMode.FIELD, { service: "web", fields: ["image.tag"] });
    const values = p.writes.find((w) => w.path === `${DIR}/services/web/values.yaml`);
    expect(values).toMatchObject({ type: "file" });
    expect(String((values as { content: Buffer }).content)).toBe('# web\nimage:\n  tag: "v1"   # pinned\nreplicas: 3\n');
    expect(p.writes.map((w) => w.path)).toEqual([`${DIR}/services/web/values.yaml`, `${DIR}/rendered/web.yaml`]);
    expect(p.comparison.services[0]!.changes).toEqual([
      expect.objectContaining({ service: "web", file: "values.yaml", path: "image.tag", before: "v2", after: "v1", selector: "image.tag" }),
    ]);
  });

  it("plans no writes when the scope already matches the target", async () => {
    const p = await plan(RollbackMode.FIELD, { service: "web", fields: ["variables:LOG_LEVEL"] });
    expect(p.writes).toEqual([]);
    expect(p.files).toEqual([]);
  });

  it("refuses selections that cannot apply, naming them", async () => {
    await expect(plan(RollbackMode.FIELD, { service: "web", fields: ["image.nope"] })).rejects.toMatchObject({
      code: "BAD_USER_INPUT",
      message: 'field "image.nope" exists in neither revision of web',
    });
    await expect(plan(RollbackMode.SERVICE, { service: "billing" })).rejects.toMatchObject({ code: "BAD_USER_INPUT", message: `unknown service "billing" in ${DIR}/` });
    expect(() => parseFieldSelection(["", " "])).toThrow("selected fields cannot be empty for field mode");
    expect(parseFieldSelection(["image.tag", "values:image.tag", " replicas "]).map((s) => s.raw)).toEqual(["image.tag", "replicas"]);
  });

  it("finds conflicts only in what the rollback would write", async () => {
    const scope = (mode: RollbackMode, fields: string[] = []) => ({ tenant: "acme", environment: "dev", mode, service: "web", fields: fields.map((f) => parseFieldSelector(f)) });
    expect(await findConflicts(repo, scope(RollbackMode.FULL), head, head)).toEqual([]);
    expect(await findConflicts(repo, scope(RollbackMode.FULL), target, head)).toEqual([DIR]);
    expect(await findConflicts(repo, scope(RollbackMode.SERVICE), target, head)).toEqual([`${DIR}/services/web`, `${DIR}/rendered/web.yaml`]);
    expect(await findConflicts(repo, scope(RollbackMode.FIELD, ["image.tag", "variables:LOG_LEVEL"]), target, head)).toEqual(["web:image.tag"]);
  });
});
