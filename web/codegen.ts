import type { CodegenConfig } from "@graphql-codegen/cli";

/** Typed documents for the console from the emitted schema (npm run codegen; CI fails when they are stale). */
const config: CodegenConfig = {
  schema: "schema/schema.graphql",
  documents: ["web/src/console/**/*.{ts,tsx}"],
  ignoreNoDocuments: false,
  generates: {
    "web/src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: { useTypeImports: true, enumsAsTypes: true, scalars: { DateTime: "string", JSON: "unknown" } },
    },
  },
};

export default config;
