import { buildTemplate } from "./helpers/harness.js";

/** Seeds the demo once; every test server starts from a copy of it. */
export default async function setup(): Promise<void> {
  process.env.TZ = "UTC";
  await buildTemplate();
}
