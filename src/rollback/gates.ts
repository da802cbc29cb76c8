import { Plan, RollbackMode } from "../../entities/enums.js";
import { Feature, type Organization } from "../../entities/organization.js";
import { forbidden } from "../errors.js";

interface Requirement {
  plans: Plan[];
  features: string[];
}

/** The spec's gate table: which plans and feature flags each mode needs. */
const REQUIREMENTS: Record<RollbackMode, Requirement> = {
  [RollbackMode.FULL]: { plans: [Plan.FREE, Plan.PRO, Plan.ENTERPRISE], features: [Feature.ROLLBACK, Feature.BASIC_ROLLBACK] },
  [RollbackMode.SERVICE]: { plans: [Plan.PRO, Plan.ENTERPRISE], features: [Feature.ROLLBACK, Feature.SELECTIVE_ROLLBACK] },
  [RollbackMode.FIELD]: { plans: [Plan.ENTERPRISE], features: [Feature.ROLLBACK, Feature.SELECTIVE_ROLLBACK] },
};

/** What the organization lacks for this mode; empty when the mode is allowed. */
export function missingForMode(org: Organization, mode: RollbackMode): string[] {
  const need = REQUIREMENTS[mode];
  const missing: string[] = [];
  if (!need.plans.includes(org.plan)) missing.push(`plan ${need.plans.join(" or ")} (organization "${org.slug}" is on ${org.plan})`);
  for (const flag of need.features) if (!org.features.includes(flag)) missing.push(`feature flag ${flag}`);
  return missing;
}

/** Refuses a mode the organization's plan or flags do not allow: FORBIDDEN, naming what is missing. */
export function assertModeAllowed(org: Organization, mode: RollbackMode): void {
  const missing = missingForMode(org, mode);
  if (missing.length > 0) throw forbidden(`${mode} rollback is not available: it requires ${missing.join(" and ")}`);
}
