import { createHash, randomBytes } from "node:crypto";
import { ID_PREFIX, type NodeTypeName } from "../../entities/node.js";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** Random lowercase base-32 (Crockford alphabet, no ambiguous letters). */
export function randomId(length = 16): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const b of bytes) out += ALPHABET[b & 31];
  return out;
}

export function newId(type: NodeTypeName | "Membership" | "Review" | "Note" | "Token" | "Policy"): string {
  const prefixes: Record<string, string> = { ...ID_PREFIX, Membership: "mem_", Review: "rev_", Note: "note_", Token: "tok_", Policy: "pol_" };
  return prefixes[type] + randomId(type === "RollbackRequest" ? 10 : 16);
}

/** Ids that must come out the same when an index is rebuilt from Git. */
export function stableId(type: NodeTypeName, ...parts: string[]): string {
  return ID_PREFIX[type] + createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 24);
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
