import { InitialSchema1700000000000 } from "./1700000000000-initial-schema.js";
import { UnreachableAnnouncedAt1764150000000 } from "./1764150000000-unreachable-announced-at.js";
import { Webhooks1764300000000 } from "./1764300000000-webhooks.js";

/** Every migration, oldest first. New schema changes add a class here; never edit a released one. */
export const MIGRATIONS = [InitialSchema1700000000000, UnreachableAnnouncedAt1764150000000, Webhooks1764300000000];
