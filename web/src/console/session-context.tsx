import { createContext, useContext } from "react";

export type Role = "VIEWER" | "DEPLOYER" | "APPROVER" | "ADMIN";

export interface ProjectSummary {
  id: string;
  slug: string;
  viewerRole: Role;
  organization: { id: string; slug: string; plan: string };
  activeBreakGlassSession?: { id: string; expiresAt: string; openedAt: string; justification: string } | null;
}

/** The signed-in caller; `me` and `projects` are null until the first answer (pages do not wait for it). */
export interface Session {
  me: { id: string; email: string; name?: string | null } | null;
  projects: ProjectSummary[] | null;
  signOut(message?: string): void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in console");
  return session;
}

const RANK: Record<Role, number> = { VIEWER: 0, DEPLOYER: 1, APPROVER: 2, ADMIN: 3 };
const ACTION: Record<Role, string> = { VIEWER: "read", DEPLOYER: "request rollbacks", APPROVER: "review rollback requests", ADMIN: "administer" };

/** Why the caller's role in a project is too low (worded like the API's FORBIDDEN message), or null. */
export function roleRefusal(role: Role | undefined, minimum: Role, project: string): string | null {
  if (!role) return `project "${project}" not found`;
  if (RANK[role] >= RANK[minimum]) return null;
  return `role ${role} cannot ${ACTION[minimum]} in project "${project}": ${minimum} or higher is required`;
}
