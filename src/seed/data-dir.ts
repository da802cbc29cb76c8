import { Project } from "../../entities/project.js";
import type { Services } from "../app.js";

/**
 * What the data directory holds besides the database: repositories that no project record
 * describes. With no project at all, the database was lost or replaced while the repositories
 * (the source of truth) stayed: the server must neither start on it nor seed the demo over them.
 */
export async function repositoriesWithoutDatabase(app: Pick<Services, "db" | "git">): Promise<string[]> {
  if ((await app.db.manager.count(Project)) > 0) return [];
  return app.git.list();
}

/** The one-line refusal to start on repositories without their database, saying how to recover. */
export function lostDatabaseMessage(repositories: string[]): string {
  const shown = repositories.length > 5 ? `${repositories.slice(0, 5).join(", ")}, …` : repositories.join(", ");
  return (
    `cannot start: the database has no projects but DATA_DIR/repos holds ${repositories.length} project repositor${repositories.length === 1 ? "y" : "ies"} (${shown}); ` +
    "the database was lost or replaced. Recover each project with `rollback-cli project recover --project <slug> --org <organization> [--plan P --features F]` " +
    "(it rebuilds the history from Git), or move the repositories away to start empty"
  );
}
