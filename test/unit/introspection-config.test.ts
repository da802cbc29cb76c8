/** INTROSPECTION=true|false, defaulting to off under NODE_ENV=production and on otherwise. */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";

describe("introspection switch", () => {
  it("is on by default, off by default in production, and INTROSPECTION decides when set", () => {
    expect(loadConfig({}).introspection).toBe(true);
    expect(loadConfig({ NODE_ENV: "production" }).introspection).toBe(false);
    expect(loadConfig({ NODE_ENV: "production", INTROSPECTION: "true" }).introspection).toBe(true);
    expect(loadConfig({ INTROSPECTION: "false" }).introspection).toBe(false);
    expect(loadConfig({ INTROSPECTION: " FALSE " }).introspection).toBe(false);
  });

  it("refuses anything but true or false, naming the variable", () => {
    expect(() => loadConfig({ INTROSPECTION: "maybe" })).toThrow('INTROSPECTION: must be true or false, got "maybe"');
  });
});
