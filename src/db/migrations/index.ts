import { InitialSchema1700000000000 } from "./1700000000000-initial-schema.js";

/** Every migration, oldest first. New schema changes add a class here; never edit a released one. */
export const MIGRATIONS = [InitialSchema1700000000000];
