import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from "typeorm";
import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata.js";
import { bindParameter } from "./database.js";

/** What a statement returns whatever the driver: its rows (RETURNING) and how many rows it changed. */
export interface StatementResult {
  rows: Record<string, unknown>[];
  affected: number;
}

/**
 * Runs one statement of fixed SQL and answers its rows and affected-row count the same way on
 * SQLite and PostgreSQL (a plain `query` gives a row count on one and the last row id on the other).
 */
export async function runStatement(tx: EntityManager, sql: string, params: unknown[]): Promise<StatementResult> {
  const own = tx.queryRunner ? null : tx.connection.createQueryRunner();
  const runner = tx.queryRunner ?? own!;
  try {
    const result = (await runner.query(sql, params, true)) as { records?: Record<string, unknown>[]; affected?: number };
    return { rows: result.records ?? [], affected: result.affected ?? 0 };
  } finally {
    await own?.release();
  }
}

/**
 * The writes of one entity on the hot write paths (a rollback's request, claim and completion) in
 * fixed SQL: the text is built once per shape (so the driver's prepared-statement cache hits), and
 * each value is converted by the driver exactly as TypeORM persists it (dates, JSON, booleans).
 * Companion of RowReader (rows.ts), which reads them back the same way.
 */
export class EntityWrites<T extends ObjectLiteral> {
  private readonly byProperty = new Map<string, ColumnMetadata>();
  private readonly texts = new Map<string, string>();
  readonly table: string;

  constructor(
    private readonly dataSource: DataSource,
    entity: EntityTarget<T>,
  ) {
    const metadata = dataSource.getMetadata(entity);
    for (const column of metadata.columns) this.byProperty.set(column.propertyName, column);
    this.table = `"${metadata.tableName}"`;
  }

  private column(property: string): ColumnMetadata {
    const column = this.byProperty.get(property);
    if (!column) throw new Error(`${this.table} has no column for property ${property}`);
    return column;
  }

  private param(n: number): string {
    return bindParameter(this.dataSource, n);
  }

  /** The bind value of a property, as TypeORM would persist it. */
  value(property: string, value: unknown): unknown {
    return this.dataSource.driver.preparePersistentValue(value, this.column(property)) as unknown;
  }

  /**
   * UPDATE of the properties in `set` (in that order, then each raw `"column" = expression`) where
   * every property of `where` equals its value; answers how many rows it changed. Timestamps are
   * the caller's to set, as with TypeORM's update (which sets them the same way).
   */
  async update(tx: EntityManager, set: Partial<T>, where: Partial<T>, raw: readonly string[] = []): Promise<number> {
    const setKeys = Object.keys(set);
    const whereKeys = Object.keys(where);
    const shape = `${setKeys.join(",")}|${raw.join(",")}|${whereKeys.join(",")}`;
    let sql = this.texts.get(shape);
    if (!sql) {
      let n = 0;
      const assignments = [...setKeys.map((k) => `"${this.column(k).databaseName}" = ${this.param(++n)}`), ...raw];
      const conditions = whereKeys.map((k) => `"${this.column(k).databaseName}" = ${this.param(++n)}`);
      sql = `UPDATE ${this.table} SET ${assignments.join(", ")} WHERE ${conditions.join(" AND ")}`;
      this.texts.set(shape, sql);
    }
    const params = [...setKeys.map((k) => this.value(k, set[k])), ...whereKeys.map((k) => this.value(k, where[k]))];
    return (await runStatement(tx, sql, params)).affected;
  }

  /**
   * INSERT of every column: the properties `entity` has, and for the ones it leaves undefined
   * (creation and update times) the column's database default, read back in the same statement
   * (RETURNING) and set on the entity, as TypeORM's insert does with a second statement on SQLite.
   */
  async insert(tx: EntityManager, entity: T): Promise<void> {
    const columns = [...this.byProperty.values()];
    const driver = this.dataSource.driver;
    // A column left undefined without a default is NULL, as with TypeORM's insert.
    const defaulted = columns.filter((c) => entity[c.propertyName as keyof T] === undefined && driver.normalizeDefault(c) != null);
    const shape = `insert|${defaulted.map((c) => c.propertyName).join(",")}`;
    let sql = this.texts.get(shape);
    if (!sql) {
      let n = 0;
      const values = columns.map((c) => (defaulted.includes(c) ? driver.normalizeDefault(c)! : this.param(++n)));
      sql =
        `INSERT INTO ${this.table} (${columns.map((c) => `"${c.databaseName}"`).join(", ")}) VALUES (${values.join(", ")})` +
        (defaulted.length > 0 ? ` RETURNING ${defaulted.map((c) => `"${c.databaseName}"`).join(", ")}` : "");
      this.texts.set(shape, sql);
    }
    const params = columns.filter((c) => !defaulted.includes(c)).map((c) => this.value(c.propertyName, entity[c.propertyName as keyof T] ?? null));
    const { rows } = await runStatement(tx, sql, params);
    const row = rows[0];
    if (defaulted.length > 0 && !row) throw new Error(`${this.table}: the insert returned no row`);
    for (const c of defaulted) (entity as Record<string, unknown>)[c.propertyName] = this.dataSource.driver.prepareHydratedValue(row![c.databaseName], c);
  }
}
