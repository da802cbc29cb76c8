import { Field, Int, ObjectType } from "type-graphql";
import { BlastRadius, ChangeKind, RollbackMode } from "../../entities/enums.js";
import { FieldChange } from "../../entities/field-change.js";
import type { ChangeSummary as ChangeSummaryResult, FileDiffResult, ImpactResult, ServiceDiffResult } from "../../src/diff/comparison.js";
import type { PreviewResult } from "../../src/rollback/queries.js";

@ObjectType({ description: "One changed file and its unified diff." })
export class FileDiff implements FileDiffResult {
  @Field({ description: "Path relative to the repository root." })
  path: string;

  @Field(() => ChangeKind, { description: "Whether the file was added, removed or modified." })
  kind: ChangeKind;

  @Field({ description: "Unified diff of the file." })
  patch: string;
}

@ObjectType({ description: "What a change does to one service." })
export class ServiceDiff implements ServiceDiffResult {
  @Field({ description: "Name of the service." })
  service: string;

  @Field(() => [FieldChange], { description: "Changed fields of the service's files." })
  changes: FieldChange[];

  @Field(() => [FileDiff], { description: "Diffs of the service's files." })
  files: FileDiff[];
}

@ObjectType({ description: "Counts of what a change affects. bindings and variables count changed fields in bindings.yaml, variables.yaml and env.yaml's variables." })
export class ImpactSummary implements ImpactResult {
  @Field(() => Int, { description: "Services changed." })
  services: number;

  @Field(() => Int, { description: "Changed fields in bindings.yaml." })
  bindings: number;

  @Field(() => Int, { description: "Changed fields in variables.yaml and env.yaml's variables." })
  variables: number;

  @Field(() => Int, { description: "Changed fields in all files." })
  fields: number;

  @Field(() => Int, { description: "Files changed." })
  files: number;
}

/** What a change does to one tenant-environment, service by service: shared by comparisons and previews. */
@ObjectType()
abstract class ChangeSummary implements ChangeSummaryResult {
  @Field(() => [ServiceDiff], { description: "Changes per service, by service name." })
  services: ServiceDiff[];

  @Field(() => [FieldChange], { description: "Changed fields of files outside any service folder (env.yaml, ...)." })
  environmentChanges: FieldChange[];

  @Field(() => [FileDiff], { description: "Diffs of files outside any service folder (env.yaml, ...)." })
  environmentFiles: FileDiff[];

  @Field(() => ImpactSummary, { description: "Counts of what the change affects." })
  impact: ImpactSummary;
}

@ObjectType({ description: "Side-by-side difference between two revisions of one tenant-environment: what moving from base to target changes." })
export class RevisionComparison extends ChangeSummary {
  @Field({ description: "Slug of the tenant." })
  tenant: string;

  @Field({ description: "Environment name." })
  environment: string;

  @Field({ description: "Full sha compared from." })
  base: string;

  @Field({ description: "Full sha compared to." })
  target: string;
}

@ObjectType({ description: "What a rollback would change, and whether it would need approval, computed without writing anything." })
export class RollbackPreview extends ChangeSummary implements PreviewResult {
  @Field(() => RollbackMode, { description: "The rollback mode previewed." })
  mode: RollbackMode;

  @Field({ description: "Full sha of the revision rolled back to." })
  targetSha: string;

  @Field({ description: "Revision of the tenant-environment the preview was computed against." })
  baseSha: string;

  @Field({ description: "The branch head the rollback would be committed on top of." })
  headSha: string;

  @Field(() => BlastRadius, { description: "How much of the tenant-environment the rollback changes." })
  blastRadius: BlastRadius;

  @Field({ description: "Whether requestRollback would wait for approval." })
  approvalRequired: boolean;

  @Field(() => Int, { description: "Approvals requestRollback would need." })
  requiredApprovals: number;

  @Field({ description: "True when the caller has an open break-glass session that would bypass approval." })
  breakGlassActive: boolean;

  @Field(() => [String], { description: "Services the rollback would change." })
  affectedServices: string[];
}
