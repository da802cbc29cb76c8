import { InitialSchema1700000000000 } from "./1700000000000-initial-schema.js";
import { UnreachableAnnouncedAt1764150000000 } from "./1764150000000-unreachable-announced-at.js";
import { SafetyAutomation1765400000000 } from "./1765400000000-safety-automation.js";

/** Every migration, oldest first. New schema changes add a class here; never edit a released one. */
export const MIGRATIONS = [InitialSchema1700000000000, UnreachableAnnouncedAt1764150000000, SafetyAutomation1765400000000];
