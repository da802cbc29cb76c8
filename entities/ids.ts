import { randomId, sha256 } from "../src/lib/ids.js";
import { ID_PREFIX, type NodeTypeName } from "./node.js";

/** Ids carry their type as a prefix (entities/node.ts): Node types and the rows that are not nodes. */
export function newId(type: NodeTypeName | "Membership" | "Review" | "Note" | "Token" | "Policy"): string {
  const prefixes: Record<string, string> = { ...ID_PREFIX, Membership: "mem_", Review: "rev_", Note: "note_", Token: "tok_", Policy: "pol_" };
  return prefixes[type] + randomId(type === "RollbackRequest" ? 10 : 16);
}

/** Ids that must come out the same when an index is rebuilt from Git. */
export function stableId(type: NodeTypeName, ...parts: string[]): string {
  return ID_PREFIX[type] + sha256(parts.join("\0")).slice(0, 24);
}
