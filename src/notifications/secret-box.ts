import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";

const KEY_FILE = "webhook-secret.key";
const VERSION = "v1";

/** The secret cannot be decrypted here: another key (replicas must share WEBHOOK_SECRET_KEY) or a damaged value. */
export class SecretKeyError extends Error {
  override name = "SecretKeyError";
}

/**
 * Webhook secrets at rest: AES-256-GCM under a key from WEBHOOK_SECRET_KEY, or else a random key
 * kept in DATA_DIR/webhook-secret.key (mode 0600, created on first use). The server must sign
 * with the secret itself, so a hash would not do. Each value is bound to its webhook id (the
 * GCM associated data), so a ciphertext copied onto another row does not decrypt.
 */
export class SecretBox {
  private key: Promise<Buffer> | null = null;

  constructor(
    private readonly configuredKey: Buffer | null,
    private readonly dataDir: string,
  ) {}

  /** Where the key comes from, for the logs and the README. */
  get source(): string {
    return this.configuredKey ? "WEBHOOK_SECRET_KEY" : path.join(this.dataDir, KEY_FILE);
  }

  async seal(plaintext: string, boundTo: string): Promise<string> {
    const key = await this.loadKey(true);
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from(boundTo, "utf8"));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [VERSION, keyId(key), iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ciphertext.toString("base64url")].join(":");
  }

  async open(sealed: string, boundTo: string): Promise<string> {
    const [version, kid, iv, tag, ciphertext] = sealed.split(":");
    if (version !== VERSION || !kid || !iv || !tag || ciphertext === undefined) throw new SecretKeyError("the stored webhook secret is not in a known format");
    const key = await this.loadKey(false);
    if (keyId(key) !== kid) {
      throw new SecretKeyError(
        `the webhook secret was encrypted with another key (${kid}; this server has ${keyId(key)} from ${this.source}): replicas must share WEBHOOK_SECRET_KEY`,
      );
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(boundTo, "utf8"));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
    } catch {
      throw new SecretKeyError("the stored webhook secret does not decrypt (damaged, or moved from another webhook)");
    }
  }

  private loadKey(create: boolean): Promise<Buffer> {
    if (this.configuredKey) return Promise.resolve(this.configuredKey);
    const loading = (this.key ??= readOrCreateKey(path.join(this.dataDir, KEY_FILE), create));
    // A failed read (no key yet, and not asked to create one) is retried next time.
    loading.catch(() => {
      if (this.key === loading) this.key = null;
    });
    return loading;
  }
}

async function readOrCreateKey(file: string, create: boolean): Promise<Buffer> {
  try {
    return decodeKeyFile(await readFile(file, "utf8"), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    if (!create) throw new SecretKeyError(`no webhook secret key: ${path.basename(file)} is missing from the data directory and WEBHOOK_SECRET_KEY is unset`);
  }
  try {
    // "wx": two processes on one data directory never write two different keys.
    await writeFile(file, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return decodeKeyFile(await readFile(file, "utf8"), file);
}

function decodeKeyFile(text: string, file: string): Buffer {
  const key = Buffer.from(text.trim(), "base64");
  if (key.length !== 32) throw new SecretKeyError(`${path.basename(file)} does not hold a 32-byte base64 key`);
  return key;
}

function keyId(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}
