import { randomBytes } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { EntityManager } from "typeorm";
import { ApiToken } from "../../entities/api-token.js";
import { Role, TokenKind } from "../../entities/enums.js";
import { Membership } from "../../entities/membership.js";
import { Project } from "../../entities/project.js";
import { User } from "../../entities/user.js";
import type { Database } from "../db/database.js";
import { RowReader } from "../db/rows.js";
import { badInput, notFound } from "../errors.js";
import { newId } from "../../entities/ids.js";
import { sha256 } from "../lib/ids.js";
import { ensureSystemUser, isSystemIdentity, refuseSystemIdentity } from "./system-identity.js";
import type { Actor } from "./actor.js";
import type { AuditTrail } from "./audit.js";

const TOKEN_PREFIX = { [TokenKind.USER]: "rbs_", [TokenKind.AGENT]: "rba_" } as const;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/**
 * How long a good token's actor is reused without reading the database again. Revocation
 * through this service evicts it at once; a token revoked by another process sharing the
 * database (the CLI, another replica) stops working within this time.
 */
export const AUTH_CACHE_TTL_MS = 5_000;
const AUTH_CACHE_SIZE = 10_000;

export interface IssuedToken {
  token: string;
  record: ApiToken;
}

/** Users, memberships and bearer tokens. Tokens are shown once and stored only as SHA-256 hashes. */
export class AuthService {
  /** Token hash → the actor of a good token (only good ones: an unknown token is never cached, so a new one works at once). */
  private readonly actors = new LRUCache<string, Actor>({ max: AUTH_CACHE_SIZE, ttl: AUTH_CACHE_TTL_MS, ttlAutopurge: false });
  private readonly tokenRows: RowReader<ApiToken>;
  private readonly userRows: RowReader<User>;
  private readonly tokenSql: string;

  constructor(
    private readonly db: Database,
    private readonly audit: AuditTrail,
  ) {
    this.tokenRows = new RowReader(db.dataSource, ApiToken, "t");
    this.userRows = new RowReader(db.dataSource, User, "u");
    this.tokenSql = `SELECT ${this.tokenRows.select}, ${this.userRows.select} FROM "api_token" "t" LEFT JOIN "user" "u" ON "u"."id" = "t"."userId" WHERE "t"."tokenHash" = ${db.param(1)}`;
  }

  /** Resolves a bearer token to an actor; null for an unknown, expired or revoked token. */
  async authenticate(token: string): Promise<Actor | null> {
    const hash = sha256(token);
    const cached = this.actors.get(hash);
    if (cached) return cached;
    const rows: Record<string, unknown>[] = await this.db.read(this.tokenSql, [hash]);
    const record = rows[0] ? this.tokenRows.read(rows[0]) : null;
    if (!record || record.revokedAt) return null;
    const now = Date.now();
    if (record.expiresAt && record.expiresAt.getTime() <= now) return null;
    let actor: Actor | null = null;
    if (record.kind === TokenKind.AGENT) actor = record.projectId ? { kind: "agent", projectId: record.projectId, tokenId: record.id } : null;
    else if (record.userId) {
      const user = this.userRows.read(rows[0]!);
      actor = user ? { kind: "user", user, tokenId: record.id } : null;
    }
    // Never past the token's own expiry.
    if (actor) this.actors.set(hash, actor, { ttl: Math.min(AUTH_CACHE_TTL_MS, record.expiresAt ? record.expiresAt.getTime() - now : AUTH_CACHE_TTL_MS) });
    return actor;
  }

  /** Revokes a token: it stops working at once, the cached actor included. */
  async revokeToken(tokenId: string, at = new Date()): Promise<ApiToken> {
    const record = await this.db.transaction(async (tx) => {
      const found = await tx.findOneBy(ApiToken, { id: tokenId });
      if (!found) throw notFound(`token ${tokenId} not found`);
      if (!found.revokedAt) {
        found.revokedAt = at;
        await tx.update(ApiToken, { id: tokenId }, { revokedAt: at });
      }
      return found;
    });
    this.actors.delete(record.tokenHash);
    return record;
  }

  /** Forgets every cached actor (a user's email or name changed, tests). */
  forgetCachedActors(): void {
    this.actors.clear();
  }

  static parseAuthorization(header: string | undefined | null): string | null {
    if (!header) return null;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header.trim());
    return match ? match[1]! : null;
  }

  async findUser(email: string): Promise<User | null> {
    return this.db.manager.findOneBy(User, { email: email.trim().toLowerCase() });
  }

  /** Creates the user, or returns the existing one with that email. */
  async ensureUser(email: string, name?: string | null, organizationId?: string | null, tx?: EntityManager): Promise<User> {
    const normalized = email.trim().toLowerCase();
    // The server's own identities author commits too, so a reindex must find them.
    if (isSystemIdentity(normalized)) return tx ? ensureSystemUser(tx, normalized) : this.db.transaction((m) => ensureSystemUser(m, normalized));
    if (!EMAIL.test(normalized)) throw badInput(`invalid email "${email}"`);
    const run = async (m: EntityManager) => {
      const existing = await m.findOneBy(User, { email: normalized });
      if (existing) {
        if (!existing.organizationId && organizationId) {
          existing.organizationId = organizationId;
          await m.save(existing);
        }
        return existing;
      }
      return m.save(m.create(User, { id: newId("User"), email: normalized, name: name ?? defaultName(normalized), organizationId: organizationId ?? null }));
    };
    return tx ? run(tx) : this.db.transaction(run);
  }

  async grant(user: User, project: Project, role: Role, tx?: EntityManager): Promise<Membership> {
    refuseSystemIdentity(user.email);
    const run = async (m: EntityManager) => {
      const existing = await m.findOneBy(Membership, { userId: user.id, projectId: project.id });
      if (existing) {
        existing.role = role;
        return m.save(existing);
      }
      return m.save(m.create(Membership, { id: newId("Membership"), userId: user.id, projectId: project.id, role }));
    };
    return tx ? run(tx) : this.db.transaction(run);
  }

  /** Issues a token for a user with a role in a project (granting the role), or an agent token for a project. */
  async createToken(options: { actor: Actor; kind: TokenKind; projectSlug: string; email?: string; role?: Role; label?: string; expiresAt?: Date | null }): Promise<IssuedToken> {
    const project = await this.db.manager.findOneBy(Project, { slug: options.projectSlug });
    if (!project) throw notFound(`project "${options.projectSlug}" not found`);
    const token = TOKEN_PREFIX[options.kind] + randomBytes(24).toString("base64url");
    const record = await this.db.transaction(async (tx) => {
      let userId: string | null = null;
      if (options.kind === TokenKind.USER) {
        if (!options.email) throw badInput("--email is required for a user token");
        refuseSystemIdentity(options.email);
        const user = await this.ensureUser(options.email, null, project.organizationId, tx);
        if (options.role) await this.grant(user, project, options.role, tx);
        else if (!(await tx.findOneBy(Membership, { userId: user.id, projectId: project.id }))) {
          throw badInput(`${user.email} has no role in project "${project.slug}": pass --role`);
        }
        userId = user.id;
      }
      const saved = await tx.save(
        tx.create(ApiToken, {
          id: newId("Token"),
          tokenHash: sha256(token),
          kind: options.kind,
          userId,
          projectId: options.kind === TokenKind.AGENT ? project.id : null,
          label: options.label ?? null,
          expiresAt: options.expiresAt ?? null,
          revokedAt: null,
        }),
      );
      await this.audit.append(tx, {
        projectId: project.id,
        actor: options.actor,
        action: "token.created",
        subjectId: saved.id,
        details: { kind: options.kind, email: options.email ?? null, role: options.role ?? null, label: options.label ?? null },
      });
      return saved;
    });
    return { token, record };
  }
}

function defaultName(email: string): string {
  const local = email.split("@")[0] ?? email;
  return local.charAt(0).toUpperCase() + local.slice(1);
}
