import type { EntityManager } from "typeorm";
import { User } from "../../entities/user.js";
import { badInput } from "../errors.js";
import { stableId } from "../../entities/ids.js";
import type { Actor } from "./actor.js";

/**
 * The server's own identities: users that requests, commits and audit events can name, but that
 * nobody can sign in as (no token, no role). Their "email" is the bare name the API shows.
 */
export const AUTO_ROLLBACK_IDENTITY = "auto-rollback";

const SYSTEM_IDENTITIES = new Set<string>([AUTO_ROLLBACK_IDENTITY]);

export function isSystemIdentity(email: string | null | undefined): boolean {
  return SYSTEM_IDENTITIES.has((email ?? "").trim().toLowerCase());
}

/** Nobody may sign in as the server: refuses tokens and roles for its identities. */
export function refuseSystemIdentity(email: string | null | undefined): void {
  if (isSystemIdentity(email)) throw badInput(`"${email!.trim()}" is the server's own identity: it cannot hold a role or a token`);
}

/**
 * The identity's user row, created on first use. The id is derived from the name, so replicas
 * creating it at once (or a reindex) agree on one row.
 */
export async function ensureSystemUser(m: EntityManager, identity: string): Promise<User> {
  const email = identity.trim().toLowerCase();
  const existing = await m.findOneBy(User, { email });
  if (existing) return existing;
  await m
    .createQueryBuilder()
    .insert()
    .into(User)
    .values({ id: stableId("User", "system", email), email, name: email, organizationId: null })
    .orIgnore()
    .updateEntity(false)
    .execute();
  return m.findOneByOrFail(User, { email });
}

export function automationActor(user: User): Actor {
  return { kind: "system", user, via: AUTO_ROLLBACK_IDENTITY };
}
