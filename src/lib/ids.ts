import { createHash, randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** Random lowercase base-32 (Crockford alphabet, no ambiguous letters). */
export function randomId(length = 16): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const b of bytes) out += ALPHABET[b & 31];
  return out;
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
