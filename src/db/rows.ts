import type { DataSource, EntityTarget, ObjectLiteral } from "typeorm";
import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata.js";
import { bindParameter } from "./database.js";

/**
 * Entities read with fixed SQL on the hot read paths (authentication, access, history pages).
 * TypeORM's query builder rebuilds the SQL text and runs its generic row transformer on every
 * call, which costs far more main-thread time than SQLite spends on the query; here the select
 * list is built once, the text stays the same (so the driver's prepared-statement cache hits),
 * and each value is converted by the driver exactly as TypeORM's own hydration would.
 */
export class RowReader<T extends ObjectLiteral> {
  private readonly columns: { column: ColumnMetadata; key: string; lazy: boolean; converted: boolean }[];
  private readonly primaryKey: string;
  /** `"alias"."column" AS "alias_column", …`: every column of the entity. */
  readonly select: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly entity: EntityTarget<T> & (new () => T),
    readonly alias: string,
    /** Properties converted on first read only (JSON columns a page of rows mostly never shows). */
    lazy: readonly string[] = [],
  ) {
    const metadata = dataSource.getMetadata(entity);
    this.columns = metadata.columns.map((column) => ({
      column,
      key: `${alias}_${column.databaseName}`,
      lazy: lazy.includes(column.propertyName),
      converted: column.transformer !== undefined || !UNCONVERTED_TYPES.has(column.type),
    }));
    this.primaryKey = `${alias}_${metadata.primaryColumns[0]!.databaseName}`;
    this.select = this.columns.map(({ column, key }) => `"${alias}"."${column.databaseName}" AS "${key}"`).join(", ");
  }

  /**
   * An INSERT of every column, in fixed SQL, with each value converted by the driver as TypeORM
   * persists it (dates, JSON columns, booleans), so TypeORM reads the row back unchanged. For
   * entities whose every column the caller sets (no database defaults).
   */
  async insert(tx: { query(sql: string, params: unknown[]): Promise<unknown> }, entity: T): Promise<void> {
    this.insertSql ??= `INSERT INTO ${this.table} (${this.columns.map(({ column }) => `"${column.databaseName}"`).join(", ")}) VALUES (${this.columns.map((_, i) => this.param(i + 1)).join(", ")})`;
    const driver = this.dataSource.driver;
    await tx.query(
      this.insertSql,
      this.columns.map(({ column }) => driver.preparePersistentValue((entity as Record<string, unknown>)[column.propertyName], column) as unknown),
    );
  }

  private insertSql: string | undefined;

  private param(n: number): string {
    return bindParameter(this.dataSource, n);
  }

  /** The table name, quoted. */
  get table(): string {
    return `"${this.dataSource.getMetadata(this.entity).tableName}"`;
  }

  /** The entity in a raw row of `select`; null when the row has none (a LEFT JOIN that found nothing). */
  read(row: Record<string, unknown>): T | null {
    const driver = this.dataSource.driver;
    if (row[this.primaryKey] === null || row[this.primaryKey] === undefined) return null;
    const entity = new this.entity();
    for (const { column, key, lazy, converted } of this.columns) {
      if (lazy) lazyProperty(entity, column.propertyName, () => driver.prepareHydratedValue(row[key], column) as unknown);
      else (entity as Record<string, unknown>)[column.propertyName] = converted ? driver.prepareHydratedValue(row[key], column) : row[key];
    }
    return entity;
  }
}

/**
 * Column types both drivers hand over as they are (SQLite's and PostgreSQL's prepareHydratedValue
 * change nothing for them): most columns of every row, so skipping the call is worth the list.
 */
const UNCONVERTED_TYPES = new Set<ColumnMetadata["type"]>(["varchar", "text", "integer", "character varying"]);

/** An own enumerable property computed on its first read (or replaced by its first write), then a plain value. */
function lazyProperty(target: object, name: string, compute: () => unknown): void {
  const settle = (value: unknown) => Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
  Object.defineProperty(target, name, {
    enumerable: true,
    configurable: true,
    get() {
      const value = compute();
      settle(value);
      return value;
    },
    set(value: unknown) {
      settle(value);
    },
  });
}
