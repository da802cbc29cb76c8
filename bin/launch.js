// Runs one of the built entry points. The build (tsc) happens once: at `npm ci` / `npm install`
// (the prepare script) and at `npm start`, never on every call.
import { existsSync } from "node:fs";

export async function launch(program, entry) {
  const file = new URL(`../dist/src/${entry}`, import.meta.url);
  if (!existsSync(file)) {
    console.error(`${program} is not built yet: run \`npm run build\` (npm ci runs it for you)`);
    process.exit(1);
  }
  await import(file.href);
}
