import type { QueryRunner, TableColumnOptions } from "typeorm";

/**
 * Column builders in the driver's own type names, so one migration serves SQLite and PostgreSQL.
 * (The initial schema has its own copy: released migrations are never edited.)
 */
export function columnsFor(queryRunner: QueryRunner) {
  const driver = queryRunner.connection.driver;
  const dateType = driver.normalizeType({ type: Date });
  return {
    id: (name = "id"): TableColumnOptions => ({ name, type: "varchar", length: "40", isPrimary: true }),
    str: (name: string, length: number, nullable = false): TableColumnOptions => ({ name, type: "varchar", length: String(length), isNullable: nullable }),
    text: (name: string, nullable = false): TableColumnOptions => ({ name, type: "text", isNullable: nullable }),
    int: (name: string, def?: number, nullable = false): TableColumnOptions => ({ name, type: "integer", isNullable: nullable, ...(def === undefined ? {} : { default: def }) }),
    bool: (name: string, def: boolean): TableColumnOptions => ({ name, type: "boolean", default: driver.options.type === "postgres" ? String(def) : def ? 1 : 0 }),
    date: (name: string, nullable = false): TableColumnOptions => ({ name, type: dateType, isNullable: nullable }),
    created: (name: string): TableColumnOptions => ({ name, type: dateType, default: driver.mappedDataTypes.createDateDefault }),
  };
}
