import swc from "unplugin-swc";
import { defineConfig } from "vitest/config";

// SWC instead of esbuild: type-graphql and TypeORM need emitted decorator metadata.
export default defineConfig({
  plugins: [swc.vite({ module: { type: "es6" } })],
  // Node (and so type-graphql) loads graphql's CommonJS build; vite would pick its ESM build for our
  // files, and two copies of graphql cannot share a schema. Point both at the same file.
  resolve: { alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }] },
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    env: { TZ: "UTC" },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: true,
    reporters: ["default"],
  },
});
