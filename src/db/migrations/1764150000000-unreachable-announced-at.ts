import { TableColumn, type MigrationInterface, type QueryRunner } from "typeorm";

/** Remembers in the database that an agent's silence was announced, so only one replica announces it, once. */
export class UnreachableAnnouncedAt1764150000000 implements MigrationInterface {
  name = "UnreachableAnnouncedAt1764150000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    const dateType = queryRunner.connection.driver.normalizeType({ type: Date });
    await queryRunner.addColumn("tenant_environment", new TableColumn({ name: "unreachableAnnouncedAt", type: dateType, isNullable: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn("tenant_environment", "unreachableAnnouncedAt");
  }
}
