import { beforeAll, describe, expect, it } from "vitest";
import { renderFromFiles } from "../../../src/delivery/renderer.js";
import { parseYamlRecord } from "../../../src/yaml/values.js";
import { expectError, expectOnlyTouched } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { createTenant, importFiles } from "../../helpers/fixtures.js";
import { changedKinds, diffLines, fileOrNull, head, rawCommitMessage } from "../../helpers/git.js";
import { deploy, justified, previewRollback, requestRollback, type RollbackInputVars, rollbackOk, rollbackRequestCount, TEST_JUSTIFICATION } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";
import { envYaml, plainService, TRICKY_VALUES, trickyService } from "../../helpers/yaml-fixtures.js";

/**
 * FIELD mode on a real repository: hand-written YAML with comments and unusual formatting,
 * deployments over it, then rollbacks of single fields. Each commit must touch the selected file(s)
 * and the service's regenerated manifest, nothing else, and change only the selected lines.
 */

const P = "demo";
const TENANT = "fieldtest";
const ENV = "dev";
const DIR = `tenants/${TENANT}/${ENV}`;
const SVC = "api-gateway";
const VALUES = `${DIR}/services/${SVC}/values.yaml`;
const BINDINGS = `${DIR}/services/${SVC}/bindings.yaml`;
const VARIABLES = `${DIR}/services/${SVC}/variables.yaml`;
const RENDERED = `${DIR}/rendered/${SVC}.yaml`;
const WHERE = { project: P, tenant: TENANT, environment: ENV };

describe("FIELD rollback on hand-written YAML", () => {
  const t = useTestServer();
  let jane: string;
  let target: string;
  let headValues: string;

  /** The rendered manifest the delivery generator makes from the service's files at `rev`. */
  function renderedAt(rev: string): string {
    const files = new Map<string, string | null>(["values.yaml", "bindings.yaml", "variables.yaml"].map((f) => [f, fileOrNull(t, rev, `${DIR}/services/${SVC}/${f}`, P)]));
    return renderFromFiles(TENANT, ENV, SVC, files);
  }

  function field(fields: string[]): RollbackInputVars {
    return { ...WHERE, mode: "FIELD", targetSha: target, service: SVC, fields };
  }

  /**
   * Rolls back `fields`, checks the commit touched exactly `files` plus the manifest when the
   * rollback changes what it renders, and returns the sha.
   */
  async function rollbackFields(fields: string[], files: string[], rendered = true): Promise<string> {
    const before = head(t, P);
    const r = await rollbackOk(t, jane, field(fields));
    expect(head(t, P)).toBe(r.commitSha);
    expect(t.git(P, "rev-parse", `${r.commitSha}~1`).trim()).toBe(before);
    expectOnlyTouched(t, r.commitSha, rendered ? [...files, RENDERED] : files, P);
    expect(fileOrNull(t, r.commitSha, RENDERED, P)).toBe(renderedAt(r.commitSha));
    expect(r.selectedFields).toEqual(fields);
    return r.commitSha;
  }

  beforeAll(async () => {
    jane = tokenOf(t, "jane");
    await createTenant(t, P, TENANT, [ENV]);
    // The target: hand-written files for api-gateway, a plain second service and env.yaml.
    target = await importFiles(t, P, TENANT, ENV, {
      ...envYaml(TENANT, ENV),
      ...trickyService(SVC),
      ...plainService("web"),
    });
    // Deployments over it: scalars in every file, through the API.
    await deploy(t, jane, {
      ...WHERE,
      service: SVC,
      set: {
        "image.tag": "v2.0.0",
        replicas: 5,
        "resources.limits.cpu": "750m",
        "env.0.value": "text",
        "env.1.value": "api-gw",
        "variables:LOG_LEVEL": "debug",
        "bindings:kustomize.path": "services/api-gateway/kustomize-v2",
      },
    });
    // A hand edit: a field added, a list item and a subtree removed.
    const current = fileOrNull(t, head(t, P), VALUES, P)!;
    const edited = current
      .replace("port: 8080\n", "port: 8080\nextra:    true   # added after the target\n")
      .replace("    - c.example.com\n", "")
      .replace("probes:\n  path: /healthz   # readiness\n", "");
    expect(edited).not.toBe(current);
    await importFiles(t, P, TENANT, ENV, { [`services/${SVC}/values.yaml`]: edited }, "Hand edit of api-gateway values");
    // Another service moves on too; FIELD rollbacks of api-gateway must leave it alone.
    await deploy(t, jane, { ...WHERE, service: "web", set: { replicas: 4 } });
    headValues = fileOrNull(t, head(t, P), VALUES, P)!;
  });

  it("the deployment over the hand-written file changed only the deployed lines", () => {
    // Sanity of the setup: the head differs from the target exactly in the lines the tests select.
    const targetLines = TRICKY_VALUES.split("\n");
    const headLines = headValues.split("\n");
    expect(headLines.filter((l) => !targetLines.includes(l))).toEqual([
      "  tag: 'v2.0.0'    # pinned after INC-1234",
      "replicas:   5   # odd spacing on purpose",
      "extra:    true   # added after the target",
      'resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: "750m", memory: 512Mi}}',
      "  value: text",
      '  value: "api-gw"',
    ]);
    expect(targetLines.filter((l) => !headLines.includes(l))).toEqual([
      "  tag: 'v1.4.2'    # pinned after INC-1234",
      "replicas:   3   # odd spacing on purpose",
      'resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: "500m", memory: 512Mi}}',
      "  value: json",
      '  value: "api-gateway"',
      "    - c.example.com",
      "probes:",
      "  path: /healthz   # readiness",
    ]);
  });

  it("image.tag: one -/+ line pair in values.yaml, the manifest regenerated, nothing else", async () => {
    const sha = await rollbackFields(["image.tag"], [VALUES]);
    expect(diffLines(t, sha, VALUES, P)).toEqual({
      removed: ["  tag: 'v2.0.0'    # pinned after INC-1234"],
      added: ["  tag: 'v1.4.2'    # pinned after INC-1234"],
    });
    expect(fileOrNull(t, sha, RENDERED, P)).toContain("image: registry.example.com/acme/api-gateway:v1.4.2");
    const msg = rawCommitMessage(t, sha, P);
    expect(msg.split("\n")[0]).toBe(`Rollback: tenant/${TENANT} env/${ENV} → revision ${target.slice(0, 7)}`);
    const trailers = msg.trim().split("\n\n").at(-1)!.split("\n");
    expect(trailers.slice(0, 5)).toEqual(["Mode: field", `Service: ${SVC}`, "Fields: image.tag", `Justification: ${TEST_JUSTIFICATION}`, "Author: jane@example.com"]);
    expect(trailers[5]).toBe("Approval: Not required");
    expect(trailers[6]).toMatch(/^Rollback Request ID: \S+$/);
  });

  it("replicas: only the value changes on a line with odd spacing and a comment", async () => {
    const sha = await rollbackFields(["replicas"], [VALUES]);
    expect(diffLines(t, sha, VALUES, P)).toEqual({
      removed: ["replicas:   5   # odd spacing on purpose"],
      added: ["replicas:   3   # odd spacing on purpose"],
    });
    expect(fileOrNull(t, sha, RENDERED, P)).toMatch(/replicas: 3\n/);
  });

  it("resources.limits.cpu: a scalar inside a flow mapping, the rest of that line kept", async () => {
    const sha = await rollbackFields(["resources.limits.cpu"], [VALUES]);
    expect(diffLines(t, sha, VALUES, P)).toEqual({
      removed: ['resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: "750m", memory: 512Mi}}'],
      added: ['resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: "500m", memory: 512Mi}}'],
    });
  });

  it("env.0.value: an array-index field, first item of an indentless sequence", async () => {
    const sha = await rollbackFields(["env.0.value"], [VALUES]);
    expect(diffLines(t, sha, VALUES, P)).toEqual({ removed: ["  value: text"], added: ["  value: json"] });
    expect(fileOrNull(t, sha, RENDERED, P)).toMatch(/- name: LOG_FORMAT\n\s+value: json\n/);
  });

  it("env.1.value: an array-index field in an indentless sequence", async () => {
    const sha = await rollbackFields(["env.1.value"], [VALUES]);
    expect(diffLines(t, sha, VALUES, P)).toEqual({ removed: ['  value: "api-gw"'], added: ['  value: "api-gateway"'] });
    expect(fileOrNull(t, sha, RENDERED, P)).toContain("value: api-gateway");
  });

  it("extra: a field added since the target is removed, exactly its line", async () => {
    // The manifest does not use `extra`: regenerating it gives the same bytes, so only values.yaml changes.
    const sha = await rollbackFields(["extra"], [VALUES], false);
    expect(diffLines(t, sha, VALUES, P)).toEqual({ removed: ["extra:    true   # added after the target"], added: [] });
  });

  it("hosts.2: a list item removed since the target is added back in the list's indentation", async () => {
    // `hosts` is not rendered: the manifest stays byte for byte.
    const sha = await rollbackFields(["hosts.2"], [VALUES], false);
    expect(diffLines(t, sha, VALUES, P)).toEqual({ removed: [], added: ["    - c.example.com"] });
  });

  it("probes: a subtree removed since the target is added back; only added lines", async () => {
    const sha = await rollbackFields(["probes"], [VALUES]);
    const { removed, added } = diffLines(t, sha, VALUES, P);
    expect(removed).toEqual([]);
    expect(added[0]).toBe("probes:");
    expect(added).toHaveLength(2);
    expect(parseYamlRecord(fileOrNull(t, sha, VALUES, P)).probes).toEqual({ path: "/healthz" });
    expect(fileOrNull(t, sha, RENDERED, P)).toContain("path: /healthz");
  });

  it("variables:LOG_LEVEL: only variables.yaml and the manifest", async () => {
    const sha = await rollbackFields(["variables:LOG_LEVEL"], [VARIABLES]);
    expect(diffLines(t, sha, VARIABLES, P)).toEqual({
      removed: ["LOG_LEVEL:   debug   # raise to debug during incidents"],
      added: ["LOG_LEVEL:   info   # raise to debug during incidents"],
    });
    expect(fileOrNull(t, sha, RENDERED, P)).toMatch(/LOG_LEVEL: info/);
    expect(rawCommitMessage(t, sha, P)).toContain("\nFields: variables:LOG_LEVEL\n");
  });

  it("bindings:kustomize.path: only bindings.yaml and the manifest", async () => {
    const sha = await rollbackFields(["bindings:kustomize.path"], [BINDINGS]);
    expect(diffLines(t, sha, BINDINGS, P)).toEqual({
      removed: ['  path:   "services/api-gateway/kustomize-v2"   # overlay'],
      added: ['  path:   "services/api-gateway/kustomize"   # overlay'],
    });
    expect(fileOrNull(t, sha, RENDERED, P)).toContain("gitops.example.com/kustomize-path: services/api-gateway/kustomize\n");
  });

  it("after every changed field was rolled back, values.yaml means what it meant at the target and web kept its deployment", () => {
    const now = head(t, P);
    expect(parseYamlRecord(fileOrNull(t, now, VALUES, P))).toEqual(parseYamlRecord(TRICKY_VALUES));
    expect(fileOrNull(t, now, `${DIR}/services/web/values.yaml`, P)).toContain("replicas: 4");
  });

  it("several fields across files in one commit: Fields lists them comma-separated, in the order given", async () => {
    await deploy(t, jane, { ...WHERE, service: SVC, set: { "image.tag": "v3.0.0", "variables:LOG_LEVEL": "trace", replicas: 9 } });
    const sha = await rollbackFields(["image.tag", "variables:LOG_LEVEL"], [VALUES, VARIABLES]);
    expect(rawCommitMessage(t, sha, P)).toContain(`\nMode: field\nService: ${SVC}\nFields: image.tag, variables:LOG_LEVEL\n`);
    expect(diffLines(t, sha, VALUES, P).removed).toEqual(["  tag: 'v3.0.0'    # pinned after INC-1234"]);
    // replicas was deployed in the same commit but not selected: it keeps the head's value.
    expect(parseYamlRecord(fileOrNull(t, sha, VALUES, P)).replicas).toBe(9);
    expect(changedKinds(t, sha, P)).toEqual({ [VALUES]: "MODIFIED", [VARIABLES]: "MODIFIED", [RENDERED]: "MODIFIED" });
  });
});

describe("FIELD rollback errors", () => {
  const t = useTestServer();
  let jane: string;
  let target: string;
  const where = { project: P, tenant: "fielderr", environment: "dev" };

  beforeAll(async () => {
    jane = tokenOf(t, "jane");
    await createTenant(t, P, where.tenant, ["dev"]);
    target = await importFiles(t, P, where.tenant, "dev", { ...envYaml(where.tenant, "dev"), ...plainService(SVC) });
    await deploy(t, jane, { ...where, service: SVC, set: { "image.tag": "v9.9.9" } });
  });

  /** The error of preview and of request alike; the request writes nothing. */
  async function expectRefused(input: Omit<RollbackInputVars, "targetSha">, code: string, status: number, message: string | RegExp): Promise<string[]> {
    const full = { ...input, targetSha: target } as RollbackInputVars;
    const headBefore = head(t, P);
    const countBefore = await rollbackRequestCount(t, jane, P);
    const messages = [
      expectError(await previewRollback(t, jane, full), code, status, message).message,
      expectError(await requestRollback(t, jane, justified(full)), code, status, message).message,
    ];
    expect(head(t, P)).toBe(headBefore);
    expect(await rollbackRequestCount(t, jane, P)).toBe(countBefore);
    return messages;
  }

  const EMPTY = "selected fields cannot be empty for field mode";

  it("empty selection: exactly the spec's message, BAD_USER_INPUT 400", async () => {
    await expectRefused({ ...where, mode: "FIELD", service: SVC, fields: [] }, "BAD_USER_INPUT", 400, EMPTY);
  });

  it("missing or blank selection is the same empty-selection error", async () => {
    await expectRefused({ ...where, mode: "FIELD", service: SVC }, "BAD_USER_INPUT", 400, EMPTY);
    await expectRefused({ ...where, mode: "FIELD", service: SVC, fields: null }, "BAD_USER_INPUT", 400, EMPTY);
    await expectRefused({ ...where, mode: "FIELD", service: SVC, fields: ["", "  "] }, "BAD_USER_INPUT", 400, EMPTY);
  });

  it("a path that exists in neither revision: BAD_USER_INPUT naming the path", async () => {
    for (const path of ["image.nope", "nothing.here.at.all", "variables:NOPE", "bindings:kustomize.nope", "env.7.value"]) {
      const [msg] = await expectRefused({ ...where, mode: "FIELD", service: SVC, fields: [path] }, "BAD_USER_INPUT", 400, /./);
      expect(msg).toContain(path);
    }
  });

  it("one bad path among good ones refuses the whole request, naming the bad one", async () => {
    const [msg] = await expectRefused({ ...where, mode: "FIELD", service: SVC, fields: ["image.tag", "image.nope"] }, "BAD_USER_INPUT", 400, /./);
    expect(msg).toContain("image.nope");
  });

  it("a file the service has in neither revision: BAD_USER_INPUT naming the path", async () => {
    const [msg] = await expectRefused({ ...where, mode: "FIELD", service: SVC, fields: ["secrets:token"] }, "BAD_USER_INPUT", 400, /./);
    expect(msg).toContain("secrets:token");
  });

  it("unknown service: BAD_USER_INPUT naming it", async () => {
    const [msg] = await expectRefused({ ...where, mode: "FIELD", service: "no-such-svc", fields: ["image.tag"] }, "BAD_USER_INPUT", 400, /./);
    expect(msg).toContain("no-such-svc");
  });

  it("no service at all: BAD_USER_INPUT", async () => {
    await expectRefused({ ...where, mode: "FIELD", fields: ["image.tag"] }, "BAD_USER_INPUT", 400, /service/);
  });

  it("a selected file that is not valid YAML: BAD_USER_INPUT naming the file, not an internal error", async () => {
    // Only the renderer's three files must parse when imported; any other file of the folder is free text.
    const t0 = await importFiles(t, P, where.tenant, "dev", { [`services/${SVC}/tuning.yaml`]: "limits: [1, 2\n" }, "Add a broken tuning.yaml");
    const input: RollbackInputVars = { ...where, mode: "FIELD", targetSha: t0, service: SVC, fields: ["tuning:limits"] };
    const headBefore = head(t, P);
    for (const res of [await previewRollback(t, jane, input), await requestRollback(t, jane, justified(input))]) {
      expect(expectError(res, "BAD_USER_INPUT", 400).message).toContain("tuning.yaml");
    }
    expect(head(t, P)).toBe(headBefore);
  });

  it("after all those refusals, a valid FIELD rollback still goes through", async () => {
    const r = await rollbackOk(t, jane, { ...where, mode: "FIELD", targetSha: target, service: SVC, fields: ["image.tag"] });
    expectOnlyTouched(t, r.commitSha, [`tenants/${where.tenant}/dev/services/${SVC}/values.yaml`, `tenants/${where.tenant}/dev/rendered/${SVC}.yaml`], P);
  });
});
