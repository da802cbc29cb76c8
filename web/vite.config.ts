import path from "node:path";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Two apps from one build: the console (index.html, served at /) and the GraphQL explorer
 * (explorer/index.html, served at /explorer/). They share React; only the explorer loads GraphiQL
 * and monaco, whose workers are bundled here too (graphiql/setup-workers/vite), never from a CDN.
 */
export default defineConfig({
  root: here,
  base: "/",
  plugins: [react()],
  publicDir: path.join(here, "public"),
  build: {
    outDir: path.resolve(here, "../dist/web"),
    emptyOutDir: true,
    sourcemap: true,
    // monaco's editor and language workers are large by nature; the console's own chunks stay small.
    chunkSizeWarningLimit: 4096,
    rolldownOptions: {
      // GraphiQL's modules carry React-compiler directives the bundler drops harmlessly; keep the log readable.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
      // The per-plugin timing table is for bundler authors, not for every npm start.
      checks: { bundlerTimings: false },
      input: {
        console: path.join(here, "index.html"),
        explorer: path.join(here, "explorer/index.html"),
      },
    },
  },
  worker: { format: "es" },
});
