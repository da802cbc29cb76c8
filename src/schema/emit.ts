import { writeFile } from "node:fs/promises";
import path from "node:path";
import { buildAppSchema, printAppSchema } from "./build-schema.js";

const target = path.resolve(process.argv[2] ?? "schema/schema.graphql");
const schema = await buildAppSchema(null);
await writeFile(target, printAppSchema(schema));
console.log(`wrote ${path.relative(process.cwd(), target)}`);
