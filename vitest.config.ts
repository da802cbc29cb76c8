import swc from "unplugin-swc";
import { defineConfig } from "vitest/config";

// SWC instead of esbuild: type-graphql and TypeORM need emitted decorator metadata.
export default defineConfig({
  plugins: [swc.vite({ module: { type: "es6" } })],
  // Node (and so type-graphql) loads graphql's CommonJS build; vite would pick its ESM build for our
  // files, and two copies of graphql cannot share a schema. Point both at the same file.
  resolve: { alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }] },
  test: {
    env: { TZ: "UTC" },
    pool: "forks",
    fileParallelism: true,
    reporters: ["default"],
    projects: [
      {
        extends: true,
        // Pure functions and in-memory pieces: no server, no demo seed, seconds for the whole tier.
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], testTimeout: 10_000 },
      },
      {
        extends: true,
        // Real servers, repositories and databases; every server starts from a copy of one demo seed.
        test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], globalSetup: ["test/global-setup.ts"], testTimeout: 60_000, hookTimeout: 120_000 },
      },
    ],
  },
});
