import { describe, expect, it } from "vitest";
import { ChangeKind, RollbackMode } from "../../../entities/enums.js";
import type { FieldChange } from "../../../entities/field-change.js";
import { failingWorkload, type Resources } from "../../../src/agent/manifests.js";
import { parseOptions, UsageError } from "../../../src/agent/options.js";
import { formatHeldValue, heldFieldKey, inRevertScope, reintroducedMessage, revertScopeOf, undoneValues } from "../../../src/automation/hold-values.js";

const change = (service: string | null, file: string, path: string, after: unknown, kind = ChangeKind.MODIFIED): FieldChange => ({
  service,
  file,
  path,
  kind,
  before: "old",
  after,
});

describe("held values", () => {
  it("one key per service, field and value, however the selector is spelled", () => {
    expect(heldFieldKey({ service: "api", field: "values:image.tag", value: "v2" })).toBe(heldFieldKey({ service: "api", field: "image.tag", value: "v2" }));
    expect(heldFieldKey({ service: "api", field: "image.tag", value: "v2" })).not.toBe(heldFieldKey({ service: "api", field: "image.tag", value: "v3" }));
    expect(heldFieldKey({ service: "api", field: "replicas", value: 3 })).not.toBe(heldFieldKey({ service: "api", field: "replicas", value: "3" }));
  });

  it("the refusal lists every value, grouped by the rollback that holds it", () => {
    expect(reintroducedMessage([{ rollbackRequestId: "rbk-1", service: "api-gateway", field: "image.tag", value: "v2.1.0" }])).toBe(
      "deployment re-introduces values held after rollback rbk-1: api-gateway image.tag = v2.1.0",
    );
    expect(
      reintroducedMessage([
        { rollbackRequestId: "rbk-1", service: "web", field: "image.tag", value: "v2" },
        { rollbackRequestId: "rbk-1", service: "web", field: "replicas", value: 5 },
        { rollbackRequestId: "rbk-2", service: "web", field: "resources.limits", value: { cpu: "2" } },
      ]),
    ).toBe('deployment re-introduces values held after rollback rbk-1: web image.tag = v2, web replicas = 5; held after rollback rbk-2: web resources.limits = {"cpu":"2"}');
    expect(formatHeldValue(null)).toBe("null");
  });

  it("what a rollback undid: added and modified service fields in its scope, each value once", () => {
    const changes = [
      change("api", "values.yaml", "image.tag", "v2"),
      change("api", "values.yaml", "image.tag", "v2"),
      change("api", "variables.yaml", "LOG_LEVEL", "debug", ChangeKind.ADDED),
      change("api", "values.yaml", "probes.path", null, ChangeKind.REMOVED),
      change("web", "values.yaml", "replicas", 4),
      change(null, "env.yaml", "variables.REGION", "us"),
    ];
    const full = undoneValues(changes, revertScopeOf({ mode: RollbackMode.FULL, service: null, selectedFields: [] }));
    expect(full).toEqual([
      { service: "api", field: "image.tag", value: "v2" },
      { service: "api", field: "variables:LOG_LEVEL", value: "debug" },
      { service: "web", field: "replicas", value: 4 },
    ]);
    const service = undoneValues(changes, revertScopeOf({ mode: RollbackMode.SERVICE, service: "web", selectedFields: [] }));
    expect(service).toEqual([{ service: "web", field: "replicas", value: 4 }]);
    const field = undoneValues(changes, revertScopeOf({ mode: RollbackMode.FIELD, service: "api", selectedFields: ["image"] }));
    expect(field).toEqual([{ service: "api", field: "image.tag", value: "v2" }]);
  });

  it("FIELD scope covers the selected fields and what is inside them, in their file only", () => {
    const scope = revertScopeOf({ mode: RollbackMode.FIELD, service: "api", selectedFields: ["resources", "variables:LOG_LEVEL"] });
    expect(inRevertScope(scope, "api", "values.yaml", "resources.limits.cpu")).toBe(true);
    expect(inRevertScope(scope, "api", "values.yaml", "resourcesX")).toBe(false);
    expect(inRevertScope(scope, "api", "variables.yaml", "LOG_LEVEL")).toBe(true);
    expect(inRevertScope(scope, "api", "values.yaml", "LOG_LEVEL")).toBe(false);
    expect(inRevertScope(scope, "web", "values.yaml", "resources.limits.cpu")).toBe(false);
  });
});

describe("agent simulator: one service Degraded", () => {
  const live: Resources = {
    "Deployment/acme-staging/billing": {
      kind: "Deployment",
      name: "billing",
      namespace: "acme-staging",
      manifest: { kind: "Deployment", spec: { template: { spec: { containers: [{ image: "registry.example.com/acme/billing:v3.0.0" }] } } } },
    },
    "Service/acme-staging/billing": { kind: "Service", name: "billing", namespace: "acme-staging", manifest: { kind: "Service" } },
  };

  it("the service's Deployment fails, on any tag or only on the given one", () => {
    expect(failingWorkload(live, "billing", null)).toEqual({ name: "billing", image: "registry.example.com/acme/billing:v3.0.0" });
    expect(failingWorkload(live, "billing", "v3.0.0")).toEqual({ name: "billing", image: "registry.example.com/acme/billing:v3.0.0" });
    expect(failingWorkload(live, "billing", "v3.0.1")).toBeNull();
    expect(failingWorkload(live, "web", null)).toBeNull();
  });

  it("--degraded-service and --degraded-tag are checked", () => {
    const base = ["--server", "http://127.0.0.1:4000", "--token", "t", "--project", "demo"];
    expect(parseOptions([...base, "--degraded-service", "billing", "--degraded-tag", "v3.0.0"], {})).toMatchObject({
      degradedService: "billing",
      degradedTag: "v3.0.0",
      degraded: false,
    });
    expect(() => parseOptions([...base, "--degraded-tag", "v3"], {})).toThrow(new UsageError("--degraded-tag needs --degraded-service (the service whose image tag fails)"));
    expect(() => parseOptions([...base, "--degraded", "--degraded-service", "billing"], {})).toThrow(UsageError);
    expect(() => parseOptions([...base, "--degraded-service", "Bad Name"], {})).toThrow('--degraded-service is not a service name: "Bad Name"');
  });
});
