import type { App } from "../src/app.js";

/**
 * Counts the SQL statements the product sends while `work` runs, transaction control included,
 * by wrapping the data source's query logger (every statement TypeORM runs passes it, logging on
 * or off). Statements are grouped by text with the bind values left out.
 */
export async function countStatements<T>(app: App, work: () => Promise<T>): Promise<{ result: T; count: number; statements: { sql: string; n: number }[] }> {
  const logger = app.db.dataSource.logger;
  const original = logger.logQuery.bind(logger);
  const seen: string[] = [];
  logger.logQuery = (query, parameters, runner) => {
    seen.push(query);
    original(query, parameters, runner);
  };
  try {
    const result = await work();
    const byText = new Map<string, number>();
    for (const q of seen) {
      const text = q.replace(/\s+/g, " ").trim();
      byText.set(text, (byText.get(text) ?? 0) + 1);
    }
    return { result, count: seen.length, statements: [...byText].map(([sql, n]) => ({ sql: sql.length > 400 ? `${sql.slice(0, 400)}…` : sql, n })) };
  } finally {
    logger.logQuery = original;
  }
}
