import { BlastRadius, Plan, RollbackMode } from "../../entities/enums.js";
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

/** How much of the tenant-environment each mode can change. */
export const BLAST_RADIUS: Record<RollbackMode, BlastRadius> = {
  [RollbackMode.FULL]: BlastRadius.HIGH,
  [RollbackMode.SERVICE]: BlastRadius.MEDIUM,
  [RollbackMode.FIELD]: BlastRadius.MINIMAL,
};

/** What the organization lacks for this mode; empty when the mode is allowed. */
export function missingForMode(org: Organization, mode: RollbackMode): string[] {
  const need = REQUIREMENTS[mode];
  const missing: string[] = [];
  if (!need.plans.includes(org.plan)) missing.push(`plan ${need.plans.join(" or ")} (organization "${org.slug}" is on ${org.plan})`);
  for (const flag of need.features) if (!org.features.includes(flag)) missing.push(`feature flag ${flag}`);
  return missing;
}

/** Why the organization may not use this mode (the FORBIDDEN message previews and requests give), or null. */
export function modeRefusal(org: Organization, mode: RollbackMode): string | null {
  const missing = missingForMode(org, mode);
  return missing.length > 0 ? `${mode} rollback is not available: it requires ${missing.join(" and ")}` : null;
}

/** Refuses a mode the organization's plan or flags do not allow: FORBIDDEN, naming what is missing. */
export function assertModeAllowed(org: Organization, mode: RollbackMode): void {
  const refusal = modeRefusal(org, mode);
  if (refusal) throw forbidden(refusal);
}

/** Every mode with whether the organization may use it and why not: what a rollback wizard offers. */
export function modeAvailability(org: Organization): { mode: RollbackMode; allowed: boolean; reason: string | null; blastRadius: BlastRadius }[] {
  return Object.values(RollbackMode).map((mode) => {
    const reason = modeRefusal(org, mode);
    return { mode, allowed: reason === null, reason, blastRadius: BLAST_RADIUS[mode] };
  });
}
