// @ts-check
import js from "@eslint/js";
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

/**
 * The layering, lowest first: each folder may import only from the folders before it (and
 * itself). The transport (`src/http`, `src/observability`, `src/server.ts`), `src/schema`,
 * `src/app.ts`, the CLI, the seed and `resolvers/` sit on top and may import anything; nothing
 * below them imports them. CONTRIBUTING.md explains it.
 */
const LAYERS = [["lib"], ["git", "yaml"], ["delivery", "diff", "db"], ["services"], ["history", "approvals"], ["rollback", "sync"], ["automation"], ["notifications", "insights"]];
/** Files of src/ every layer from services up may use. */
const SHARED = ["./errors.ts"];

/** @returns {import("eslint-plugin-import-x").RuleOptions["no-restricted-paths"][0]["zones"]} */
function layerZones() {
  const zones = [];
  const below = [];
  for (const [i, layer] of LAYERS.entries()) {
    for (const folder of layer) {
      const allowed = [...below, ...layer.filter((f) => f === folder), ...(i >= 3 ? SHARED : [])].map((f) => (f.startsWith("./") ? f : `./${f}`));
      zones.push({
        target: `./src/${folder}`,
        from: "./src",
        except: allowed,
        message: `src/${folder} may import only from ${allowed.join(", ")} (see the layering in CONTRIBUTING.md).`,
      });
      zones.push({ target: `./src/${folder}`, from: "./resolvers", message: "Services never depend on the GraphQL layer." });
    }
    below.push(...layer);
  }
  // Entities are data: they may use src/lib and the repository layout, nothing else of src/.
  zones.push({ target: "./entities", from: "./src", except: ["./lib", "./git/layout.ts"], message: "entities/ may import only from src/lib and the repository layout." });
  zones.push({ target: "./entities", from: "./resolvers", message: "entities/ may import only from src/lib." });
  zones.push({ target: ["./src/lib", "./src/git", "./src/yaml"], from: "./entities", message: "src/lib, src/git and src/yaml know nothing of the product's entities." });
  // The agent simulator is a separate client of the server: it shares only the repository layout and lib.
  zones.push({
    target: "./src/agent",
    from: "./src",
    except: ["./agent", "./lib", "./git/layout.ts", "./cli/args.ts", "./version.ts"],
    message: "The agent talks to the server over HTTP only.",
  });
  zones.push({ target: "./src/agent", from: "./entities", message: "The agent talks to the server over HTTP only." });
  // Resolvers translate GraphQL to service calls: the database and Git are behind the services.
  zones.push({ target: "./resolvers", from: ["./src/db", "./src/git"], message: "Resolvers call services; the database and Git are behind them." });
  return zones;
}

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "data/**", "coverage/**", "bench/tmp/**", "agent-state/**", "web/src/gql/**", "test-results/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
  {
    plugins: { "import-x": importX },
    settings: {
      // Sources import each other as `./x.js` (NodeNext): resolve those to the .ts files.
      "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".js"], extensionAlias: { ".js": [".ts", ".js"] } })],
    },
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        URL: "readonly",
        fetch: "readonly",
        AbortController: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-imports": ["error", { paths: [{ name: "nodegit", message: "Only src/git/ may import nodegit: use the GitStore interface." }] }],
      // No runtime import cycles between files (type-only imports do not count).
      "import-x/no-cycle": "error",
      // Kept on by name: an unawaited or misused promise is the bug typed linting is here for.
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      // Off: without noUncheckedIndexedAccess every `list[i]!` the code writes on purpose is "unnecessary" (300 hits, none a bug).
      "@typescript-eslint/no-unnecessary-type-assertion": "off",
      // Off: async hooks and callbacks implement Promise-returning interfaces (Apollo plugins, fixtures) without awaiting anything.
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    files: ["src/**/*.ts", "entities/**/*.ts", "resolvers/**/*.ts"],
    rules: { "import-x/no-restricted-paths": ["error", { zones: layerZones() }] },
  },
  {
    files: ["src/git/**"],
    rules: { "no-restricted-imports": "off" },
  },
  {
    files: ["test/**/*.ts"],
    // Off in tests: vitest's asymmetric matchers (expect.any, expect.objectContaining) are typed any.
    rules: { "@typescript-eslint/no-unsafe-assignment": "off" },
  },
  {
    files: ["web/**/*.ts", "web/**/*.tsx"],
    rules: {
      // Off in the console: props and the live store are typed with method syntax but are closures, passed unbound by design.
      "@typescript-eslint/unbound-method": "off",
      // JSX handlers may return promises: urql's operations resolve with the error in their result and never reject.
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { attributes: false } }],
    },
  },
  {
    // Configuration files outside the TypeScript project.
    files: ["**/*.js", "**/*.mjs", "vitest.config.ts"],
    ...tseslint.configs.disableTypeChecked,
  },
);
