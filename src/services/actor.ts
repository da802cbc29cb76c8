import type { User } from "../../entities/user.js";

/** Who is calling: a user with a token, a cluster agent bound to one project, or a local operator (CLI, seed). */
export type Actor =
  | { kind: "user"; user: User; tokenId: string }
  | { kind: "agent"; projectId: string; tokenId: string }
  | { kind: "system"; user: User | null };
