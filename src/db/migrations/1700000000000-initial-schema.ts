import { Table, TableIndex, type MigrationInterface, type QueryRunner, type TableColumnOptions } from "typeorm";

/**
 * The first schema. Written with TypeORM's Table API and the driver's own type names so one
 * migration serves SQLite and PostgreSQL alike; test/schema-drift.test.ts checks it matches the entities.
 */
export class InitialSchema1700000000000 implements MigrationInterface {
  name = "InitialSchema1700000000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    const driver = queryRunner.connection.driver;
    const dateType = driver.normalizeType({ type: Date });
    const nowDefault = driver.mappedDataTypes.createDateDefault;

    const id = (name = "id"): TableColumnOptions => ({ name, type: "varchar", length: "40", isPrimary: true });
    const str = (name: string, length: number, nullable = false): TableColumnOptions => ({ name, type: "varchar", length: String(length), isNullable: nullable });
    const text = (name: string, nullable = false): TableColumnOptions => ({ name, type: "text", isNullable: nullable });
    const int = (name: string, def?: number): TableColumnOptions => ({ name, type: "integer", ...(def === undefined ? {} : { default: def }) });
    const bool = (name: string, def?: boolean): TableColumnOptions => ({
      name,
      type: "boolean",
      ...(def === undefined ? {} : { default: driver.options.type === "postgres" ? String(def) : def ? 1 : 0 }),
    });
    const date = (name: string, nullable = false): TableColumnOptions => ({ name, type: dateType, isNullable: nullable });
    const created = (name: string): TableColumnOptions => ({ name, type: dateType, default: nowDefault });
    const json = (name: string, nullable = false): TableColumnOptions => ({ name, type: "text", isNullable: nullable });

    const table = async (name: string, columns: TableColumnOptions[], indices: { columns: string[]; unique?: boolean }[] = []) => {
      await queryRunner.createTable(
        new Table({
          name,
          columns,
          indices: indices.map((ix) => new TableIndex({ columnNames: ix.columns, isUnique: ix.unique ?? false })),
        }),
      );
    };

    await table("organization", [id(), { ...str("slug", 100), isUnique: true }, str("plan", 20), json("features"), created("createdAt")]);
    await table("user", [id(), str("email", 320), str("name", 200, true), str("organizationId", 40, true), created("createdAt")], [{ columns: ["email"], unique: true }]);
    await table(
      "project",
      [id(), { ...str("slug", 100), isUnique: true }, str("organizationId", 40), json("environments"), created("createdAt")],
      [{ columns: ["organizationId"] }],
    );
    await table("membership", [id(), str("userId", 40), str("projectId", 40), str("role", 20)], [{ columns: ["userId", "projectId"], unique: true }, { columns: ["projectId"] }]);
    await table("tenant", [id(), str("projectId", 40), str("slug", 100)], [{ columns: ["projectId", "slug"], unique: true }]);
    await table(
      "tenant_environment",
      [
        id(),
        str("projectId", 40),
        str("tenantId", 40),
        str("tenantSlug", 100),
        str("environment", 100),
        str("currentRevision", 64, true),
        int("lastSeq", 0),
        str("syncRevision", 64, true),
        { ...str("syncState", 20), default: "'UNKNOWN'" },
        str("syncHealth", 100, true),
        date("lastReportAt", true),
        json("drift", true),
      ],
      [{ columns: ["projectId", "tenantSlug", "environment"], unique: true }],
    );
    await table(
      "deployment",
      [
        id(),
        str("projectId", 40),
        str("tenantEnvironmentId", 40),
        int("seq"),
        str("revision", 64),
        str("parentRevision", 64, true),
        date("deployedAt"),
        str("authorId", 40),
        str("summary", 500),
        json("changes"),
        json("files"),
        str("source", 20),
        str("status", 20),
        str("rollbackRequestId", 40, true),
      ],
      [
        { columns: ["tenantEnvironmentId", "seq"], unique: true },
        { columns: ["tenantEnvironmentId", "revision"], unique: true },
        { columns: ["tenantEnvironmentId", "source", "seq"] },
        { columns: ["tenantEnvironmentId", "status", "seq"] },
        { columns: ["projectId"] },
        { columns: ["revision"] },
        { columns: ["rollbackRequestId"] },
      ],
    );
    await table("deployment_count", [
      { ...str("tenantEnvironmentId", 40), isPrimary: true },
      { ...str("source", 20), isPrimary: true },
      { ...str("status", 20), isPrimary: true },
      int("count"),
    ]);
    await table(
      "rollback_request",
      [
        id(),
        str("state", 20),
        str("mode", 10),
        str("projectId", 40),
        str("projectSlug", 100),
        str("tenantEnvironmentId", 40),
        str("tenant", 100),
        str("environment", 100),
        str("targetSha", 64),
        str("baseSha", 64),
        str("service", 100, true),
        json("selectedFields"),
        json("affectedServices"),
        text("justification"),
        str("requestedById", 40),
        created("createdAt"),
        { ...created("updatedAt") },
        int("approvals", 0),
        int("requiredApprovals"),
        bool("breakGlass", false),
        str("breakGlassSessionId", 40, true),
        str("commitSha", 64, true),
        text("commitMessage", true),
        text("error", true),
        str("errorCode", 40, true),
        str("idempotencyKey", 200, true),
        str("inputFingerprint", 64),
        int("executionAttempts", 0),
        date("executionStartedAt", true),
        str("executorId", 64, true),
      ],
      [{ columns: ["requestedById", "idempotencyKey"], unique: true }, { columns: ["projectId", "createdAt"] }, { columns: ["state"] }, { columns: ["tenantEnvironmentId"] }],
    );
    await table(
      "review",
      [id(), str("requestId", 40), str("reviewerId", 40), str("decision", 10), text("comment", true), date("createdAt")],
      [{ columns: ["requestId", "reviewerId"], unique: true }],
    );
    await table("rollback_note", [id(), str("requestId", 40), str("authorId", 40), text("text"), date("createdAt")], [{ columns: ["requestId"] }]);
    await table(
      "approval_policy",
      [id(), str("projectId", 40), str("environment", 100), int("requiredApprovals"), bool("allowSelfApproval")],
      [{ columns: ["projectId", "environment"], unique: true }],
    );
    await table(
      "break_glass_session",
      [id(), str("projectId", 40), str("userId", 40), text("justification"), date("openedAt"), date("expiresAt"), date("closedAt", true)],
      [{ columns: ["projectId", "userId"] }],
    );
    await table(
      "audit_event",
      [
        id(),
        str("projectId", 40),
        int("seq"),
        date("at"),
        str("actorId", 40, true),
        str("action", 100),
        bool("breakGlass", false),
        str("subjectId", 100, true),
        json("details"),
        str("prevHash", 64),
        str("hash", 64),
      ],
      [{ columns: ["projectId", "seq"], unique: true }],
    );
    await table("audit_chain_head", [{ ...str("projectId", 40), isPrimary: true }, int("seq"), str("hash", 64)]);
    await table(
      "api_token",
      [
        id(),
        str("tokenHash", 64),
        str("kind", 10),
        str("userId", 40, true),
        str("projectId", 40, true),
        str("label", 200, true),
        created("createdAt"),
        date("expiresAt", true),
        date("revokedAt", true),
      ],
      [{ columns: ["tokenHash"], unique: true }, { columns: ["userId"] }],
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const name of [
      "api_token",
      "audit_chain_head",
      "audit_event",
      "break_glass_session",
      "approval_policy",
      "rollback_note",
      "review",
      "rollback_request",
      "deployment_count",
      "deployment",
      "tenant_environment",
      "tenant",
      "membership",
      "project",
      "user",
      "organization",
    ]) {
      await queryRunner.dropTable(name);
    }
  }
}
