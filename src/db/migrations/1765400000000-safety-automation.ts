import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner, type TableColumnOptions } from "typeorm";

/**
 * Safety automation: holds after rollback, automatic rollback policies and their per-deployment
 * claims, freeze windows, and what triggered a rollback request. Same Table API as the first
 * migration, so it serves SQLite and PostgreSQL alike.
 */
export class SafetyAutomation1765400000000 implements MigrationInterface {
  name = "SafetyAutomation1765400000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    const driver = queryRunner.connection.driver;
    const dateType = driver.normalizeType({ type: Date });
    const str = (name: string, length: number, nullable = false): TableColumnOptions => ({ name, type: "varchar", length: String(length), isNullable: nullable });
    const id = (name = "id"): TableColumnOptions => ({ ...str(name, 40), isPrimary: true });
    const text = (name: string, nullable = false): TableColumnOptions => ({ name, type: "text", isNullable: nullable });
    const int = (name: string): TableColumnOptions => ({ name, type: "integer" });
    const bool = (name: string): TableColumnOptions => ({ name, type: "boolean" });
    const date = (name: string, nullable = false): TableColumnOptions => ({ name, type: dateType, isNullable: nullable });
    const table = async (name: string, columns: TableColumnOptions[], indices: { columns: string[]; unique?: boolean }[] = []) => {
      await queryRunner.createTable(new Table({ name, columns, indices: indices.map((ix) => new TableIndex({ columnNames: ix.columns, isUnique: ix.unique ?? false })) }));
    };

    await table(
      "deployment_hold",
      [
        id(),
        str("projectId", 40),
        str("tenantEnvironmentId", 40),
        str("tenant", 100),
        str("environment", 100),
        str("service", 100),
        str("field", 500),
        text("heldValue", true),
        str("rollbackRequestId", 40),
        date("createdAt"),
        date("releasedAt", true),
        str("releasedById", 40, true),
        text("releaseJustification", true),
        str("releaseKind", 20, true),
      ],
      [{ columns: ["tenantEnvironmentId", "service"] }, { columns: ["rollbackRequestId"] }],
    );
    await table(
      "auto_rollback_policy",
      [{ ...str("id", 120), isPrimary: true }, str("projectId", 40), str("environment", 100), bool("enabled"), int("windowMinutes"), str("mode", 10), bool("bypassApproval")],
      [{ columns: ["projectId", "environment"], unique: true }],
    );
    await table("auto_rollback_trigger", [
      id("deploymentId"),
      str("projectId", 40),
      str("claimId", 40),
      date("claimedAt"),
      str("outcome", 20),
      text("reason", true),
      text("requestIds"),
    ]);
    await table(
      "freeze_window",
      [
        id(),
        str("projectId", 40),
        str("environment", 100),
        date("startsAt"),
        date("endsAt"),
        str("reason", 500),
        bool("allowRollbacks"),
        str("createdById", 40),
        date("createdAt"),
        date("deletedAt", true),
      ],
      [{ columns: ["projectId", "environment", "endsAt"] }],
    );

    await queryRunner.addColumns("rollback_request", [new TableColumn({ ...str("trigger", 10), default: "'MANUAL'" }), new TableColumn(str("triggeredByDeploymentId", 40, true))]);
    await queryRunner.createIndex("rollback_request", new TableIndex({ columnNames: ["triggeredByDeploymentId"] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const requests = await queryRunner.getTable("rollback_request");
    const index = requests?.indices.find((ix) => ix.columnNames.length === 1 && ix.columnNames[0] === "triggeredByDeploymentId");
    if (index) await queryRunner.dropIndex("rollback_request", index);
    await queryRunner.dropColumns("rollback_request", ["triggeredByDeploymentId", "trigger"]);
    for (const name of ["freeze_window", "auto_rollback_trigger", "auto_rollback_policy", "deployment_hold"]) await queryRunner.dropTable(name);
  }
}
