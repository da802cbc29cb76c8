import { Table, TableIndex, type MigrationInterface, type QueryRunner } from "typeorm";
import { columnsFor } from "./columns.js";

/** Webhooks and their delivery queue (the outbox), and the index delivery metrics read a period through. */
export class Webhooks1765500000000 implements MigrationInterface {
  name = "Webhooks1765500000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    const { id, str, text, int, bool, date, created } = columnsFor(queryRunner);
    const index = (columns: string[], unique = false) => new TableIndex({ columnNames: columns, isUnique: unique });
    await queryRunner.createTable(
      new Table({
        name: "webhook",
        columns: [
          id(),
          str("projectId", 40),
          str("url", 2048),
          text("events"),
          str("format", 20),
          bool("active", true),
          text("secretCiphertext"),
          int("lastSeq", 0),
          str("createdById", 40, true),
          created("createdAt"),
        ],
        indices: [index(["projectId"])],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "webhook_delivery",
        columns: [
          id(),
          str("webhookId", 40),
          str("projectId", 40),
          int("seq"),
          str("event", 40),
          bool("ping", false),
          text("payload"),
          str("state", 20),
          int("attempts", 0),
          int("responseStatus", undefined, true),
          text("error", true),
          date("createdAt"),
          date("deliveredAt", true),
          date("nextAttemptAt", true),
          str("leaseOwner", 64, true),
          date("leaseUntil", true),
        ],
        indices: [index(["webhookId", "seq"], true), index(["webhookId", "state", "seq"]), index(["state", "nextAttemptAt"]), index(["createdAt"])],
      }),
    );
    await queryRunner.createIndex("deployment", index(["tenantEnvironmentId", "deployedAt"]));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const deployment = await queryRunner.getTable("deployment");
    const byPeriod = deployment?.indices.find((ix) => ix.columnNames.join(",") === "tenantEnvironmentId,deployedAt");
    if (byPeriod) await queryRunner.dropIndex("deployment", byPeriod);
    await queryRunner.dropTable("webhook_delivery");
    await queryRunner.dropTable("webhook");
  }
}
