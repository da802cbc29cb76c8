import swc from "unplugin-swc";
import { defineConfig } from "vitest/config";

// SWC instead of esbuild: type-graphql and TypeORM need emitted decorator metadata.
export default defineConfig({
  plugins: [swc.vite({ module: { type: "es6" } })],
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: true,
    reporters: ["default"],
  },
});
