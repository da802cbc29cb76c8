import type { TestServer } from "./server.js";

/** The demo seed as the product page describes it (literal here: tests check the seed, not copy it). */
export const TENANTS = ["acme", "globex"] as const;
export const ENVIRONMENTS = ["dev", "staging", "production"] as const;
export const SERVICES = ["api-gateway", "auth", "billing", "web", "worker"] as const;

/** The demo users and their roles. */
export const EMAIL = {
  jane: "jane@example.com", // DEPLOYER in demo, pro, starter
  bob: "bob@example.com", // APPROVER
  carol: "carol@example.com", // APPROVER
  alice: "alice@example.com", // ADMIN
  victor: "victor@example.com", // VIEWER
  mallory: "mallory@example.com", // DEPLOYER in starter only: demo belongs to another organization for her
} as const;
export type Person = keyof typeof EMAIL;

/** A demo user's token (the server's copy of demo-tokens.json). */
export function tokenOf(t: TestServer, who: Person): string {
  const token = t.tokens[EMAIL[who]];
  if (!token) throw new Error(`no demo token for ${who}`);
  return token;
}

/** Tokens of several demo users at once: `const [jane, bob] = tokensOf(t, "jane", "bob")`. */
export function tokensOf<const P extends Person[]>(t: TestServer, ...who: P): { [K in keyof P]: string } {
  return who.map((p) => tokenOf(t, p)) as { [K in keyof P]: string };
}
