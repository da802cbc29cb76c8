import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Resources } from "./manifests.js";

/** What the simulated cluster runs: the local JSON state file (<state-dir>/applied.json). */
export interface AppliedState {
  version: 1;
  project: string;
  environments: Record<
    string,
    {
      /** Repository revision the objects were applied from. */
      revision: string;
      appliedAt: string;
      resources: Resources;
    }
  >;
}

export function stateFile(stateDir: string): string {
  return path.join(stateDir, "applied.json");
}

export async function loadState(stateDir: string, project: string): Promise<AppliedState> {
  const file = stateFile(stateDir);
  if (existsSync(file)) {
    try {
      const parsed = JSON.parse(await readFile(file, "utf8")) as AppliedState;
      if (parsed?.version === 1 && parsed.project === project && typeof parsed.environments === "object") return parsed;
    } catch {
      // unreadable: start over, as a fresh cluster would
    }
  }
  return { version: 1, project, environments: {} };
}

/** Written to a temporary file and renamed, so a crash never leaves half a state file. */
export async function saveState(stateDir: string, state: AppliedState): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  const file = stateFile(stateDir);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, file);
}
