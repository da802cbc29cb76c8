import { buildTemplate, removeTemplate } from "./helpers/template.js";

/** Seeds the demo once per run; every test server starts from a copy of it. */
export default async function setup(): Promise<() => void> {
  process.env.TZ = "UTC";
  await buildTemplate();
  return removeTemplate;
}
