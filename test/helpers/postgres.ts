import { randomBytes } from "node:crypto";
import { DataSource } from "typeorm";

export const PG_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** Whether the scale-out services (PostgreSQL, Redis) are reachable; CI requires them. */
export async function postgresAvailable(): Promise<boolean> {
  const ds = new DataSource({ type: "postgres", url: PG_URL, connectTimeoutMS: 2000 });
  try {
    await ds.initialize();
    await ds.destroy();
    return true;
  } catch (err) {
    if (process.env.REQUIRE_SCALEOUT_SERVICES) throw new Error(`PostgreSQL at ${PG_URL} is required here: ${(err as Error).message}`);
    return false;
  }
}

/** A schema name of its own for one test run, so runs never see each other's rows. */
export function uniqueSchema(prefix = "t"): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const ds = new DataSource({ type: "postgres", url: PG_URL });
  await ds.initialize();
  try {
    await ds.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await ds.destroy();
  }
}
