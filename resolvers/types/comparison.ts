import { Field, Int, ObjectType } from "type-graphql";
import { BlastRadius, ChangeKind, RollbackMode } from "../../entities/enums.js";
import { FieldChange } from "../../entities/field-change.js";
import type { ChangeSummary as ChangeSummaryResult, FileDiffResult, ImpactResult, ServiceDiffResult } from "../../src/diff/comparison.js";
import type { PreviewResult } from "../../src/rollback/queries.js";

@ObjectType()
export class FileDiff implements FileDiffResult {
  @Field({ description: "Path relative to the repository root." })
  path: string;

  @Field(() => ChangeKind)
  kind: ChangeKind;

  @Field({ description: "Unified diff of the file." })
  patch: string;
}

@ObjectType()
export class ServiceDiff implements ServiceDiffResult {
  @Field()
  service: string;

  @Field(() => [FieldChange])
  changes: FieldChange[];

  @Field(() => [FileDiff])
  files: FileDiff[];
}

@ObjectType({ description: "Counts of what a change affects. bindings and variables count changed fields in bindings.yaml, variables.yaml and env.yaml's variables." })
export class ImpactSummary implements ImpactResult {
  @Field(() => Int)
  services: number;

  @Field(() => Int)
  bindings: number;

  @Field(() => Int)
  variables: number;

  @Field(() => Int)
  fields: number;

  @Field(() => Int)
  files: number;
}

/** What a change does to one tenant-environment, service by service: shared by comparisons and previews. */
@ObjectType()
abstract class ChangeSummary implements ChangeSummaryResult {
  @Field(() => [ServiceDiff])
  services: ServiceDiff[];

  @Field(() => [FieldChange])
  environmentChanges: FieldChange[];

  @Field(() => [FileDiff], { description: "Diffs of files outside any service folder (env.yaml, ...)." })
  environmentFiles: FileDiff[];

  @Field(() => ImpactSummary)
  impact: ImpactSummary;
}

@ObjectType({ description: "Side-by-side difference between two revisions of one tenant-environment: what moving from base to target changes." })
export class RevisionComparison extends ChangeSummary {
  @Field()
  tenant: string;

  @Field()
  environment: string;

  @Field()
  base: string;

  @Field()
  target: string;
}

@ObjectType()
export class RollbackPreview extends ChangeSummary implements PreviewResult {
  @Field(() => RollbackMode)
  mode: RollbackMode;

  @Field()
  targetSha: string;

  @Field({ description: "Revision of the tenant-environment the preview was computed against." })
  baseSha: string;

  @Field({ description: "The branch head the rollback would be committed on top of." })
  headSha: string;

  @Field(() => BlastRadius)
  blastRadius: BlastRadius;

  @Field()
  approvalRequired: boolean;

  @Field(() => Int)
  requiredApprovals: number;

  @Field({ description: "True when the caller has an open break-glass session that would bypass approval." })
  breakGlassActive: boolean;

  @Field(() => [String], { description: "Services the rollback would change." })
  affectedServices: string[];
}
