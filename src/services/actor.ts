import type { User } from "../../entities/user.js";

/**
 * Who is calling: a user with a token, a cluster agent bound to one project, or the server itself:
 * a local operator (CLI, seed) or one of its automations (`via`, e.g. auto-rollback).
 */
export type Actor = { kind: "user"; user: User; tokenId: string } | { kind: "agent"; projectId: string; tokenId: string } | { kind: "system"; user: User | null; via?: string };

export function actorUser(actor: Actor): User | null {
  return actor.kind === "agent" ? null : actor.user;
}
