import { describe, expect, it } from "vitest";
import type { Deployment } from "../../../entities/deployment.js";
import { ChangeKind, DeploymentStatus, RollbackMode } from "../../../entities/enums.js";
import { rolledBackBy } from "../../../src/history/rolled-back.js";

/** A deployment of api-gateway's tenant-environment as the index records it: changed paths and field changes. */
function deployment(id: string, files: string[], changes: [service: string, file: string, path: string][] = [], status = DeploymentStatus.PENDING): Deployment {
  return {
    id,
    status,
    files,
    changes: changes.map(([service, file, path]) => ({ service, file, path, kind: ChangeKind.MODIFIED, before: 1, after: 2 })),
  } as Deployment;
}

const tagOnly = deployment("tag", ["rendered/api-gateway.yaml", "services/api-gateway/values.yaml"], [["api-gateway", "values.yaml", "image.tag"]]);
const tagAndReplicas = deployment(
  "tag+replicas",
  ["rendered/api-gateway.yaml", "services/api-gateway/values.yaml"],
  [
    ["api-gateway", "values.yaml", "image.tag"],
    ["api-gateway", "values.yaml", "replicas"],
  ],
);
const imageSubtree = deployment(
  "image",
  ["rendered/api-gateway.yaml", "services/api-gateway/values.yaml"],
  [
    ["api-gateway", "values.yaml", "image.tag"],
    ["api-gateway", "values.yaml", "image.repository"],
  ],
);
const logLevel = deployment("log", ["rendered/api-gateway.yaml", "services/api-gateway/variables.yaml"], [["api-gateway", "variables.yaml", "LOG_LEVEL"]]);
const otherService = deployment("auth", ["rendered/auth.yaml", "services/auth/values.yaml"], [["auth", "values.yaml", "replicas"]]);
const withEnv = deployment("env+file", ["env.yaml", "services/api-gateway/notes.txt"]);
const alreadyRolledBack = deployment("old", ["services/api-gateway/values.yaml"], [["api-gateway", "values.yaml", "image.tag"]], DeploymentStatus.ROLLED_BACK);
const newer = [tagOnly, tagAndReplicas, imageSubtree, logLevel, otherService, withEnv, alreadyRolledBack];

const ids = (list: Deployment[]) => list.map((d) => d.id);

describe("which deployments a rollback rolled back", () => {
  it("FULL: every newer deployment that is not ROLLED_BACK already", () => {
    expect(ids(rolledBackBy(newer, { mode: RollbackMode.FULL, service: null, selectedFields: [] }))).toEqual(["tag", "tag+replicas", "image", "log", "auth", "env+file"]);
  });

  it("SERVICE: those that changed nothing but the service's files and manifest", () => {
    expect(ids(rolledBackBy(newer, { mode: RollbackMode.SERVICE, service: "api-gateway", selectedFields: [] }))).toEqual(["tag", "tag+replicas", "image", "log"]);
    expect(ids(rolledBackBy(newer, { mode: RollbackMode.SERVICE, service: "auth", selectedFields: [] }))).toEqual(["auth"]);
  });

  it("FIELD: those whose every field change is a selected field or inside one", () => {
    expect(ids(rolledBackBy(newer, { mode: RollbackMode.FIELD, service: "api-gateway", selectedFields: ["image.tag"] }))).toEqual(["tag"]);
    expect(ids(rolledBackBy(newer, { mode: RollbackMode.FIELD, service: "api-gateway", selectedFields: ["image"] }))).toEqual(["tag", "image"]);
    expect(ids(rolledBackBy(newer, { mode: RollbackMode.FIELD, service: "api-gateway", selectedFields: ["image", "replicas"] }))).toEqual(["tag", "tag+replicas", "image"]);
    expect(ids(rolledBackBy(newer, { mode: RollbackMode.FIELD, service: "api-gateway", selectedFields: ["variables:LOG_LEVEL"] }))).toEqual(["log"]);
    // A prefix of a field name is not the field: "image.ta" selects nothing of image.tag.
    expect(ids(rolledBackBy(newer, { mode: RollbackMode.FIELD, service: "api-gateway", selectedFields: ["image.ta"] }))).toEqual([]);
  });
});
