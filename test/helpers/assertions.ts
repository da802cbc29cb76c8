import { applyPatch, parsePatch, reversePatch } from "diff";
import { expect } from "vitest";
import { changedKinds, commitPaths, blobIds, fileOrNull, parentOf } from "./git.js";
import type { FieldChangeView, FileDiffView, PreviewView } from "./operations.js";
import type { GqlResult, TestServer } from "./server.js";

export type GqlError = NonNullable<GqlResult["errors"]>[number];

/** An error as a test reads it: message, code, status and the other extensions. */
export interface ErrorShape {
  message: string;
  code?: string;
  status?: number;
  extensions?: Record<string, unknown>;
}

/** The first error of a response; fails when there is none. */
export function errorOf(res: GqlResult<unknown>): ErrorShape {
  const e = res.errors?.[0];
  if (!e) throw new Error(`expected an error, got data ${JSON.stringify(res.data)}`);
  return { message: e.message, code: e.extensions?.code, status: e.extensions?.status, extensions: e.extensions };
}

/** No error of a response carries a stack trace, an exception object or an internal path. */
export function expectNoInternals(result: GqlResult<unknown>): void {
  for (const error of result.errors ?? []) {
    const ext = error.extensions ?? {};
    expect(ext).not.toHaveProperty("stacktrace");
    expect(ext).not.toHaveProperty("exception");
    const text = JSON.stringify(error);
    expect(text).not.toMatch(/\n\s+at\s/);
    expect(text).not.toMatch(/\bat\s+\S+\s+\(/);
    expect(text).not.toMatch(/node_modules|\/work\/|\.ts:\d+|\.js:\d+/);
  }
}

/**
 * The response is exactly one error with this code and status (and message, when given: a string
 * must match exactly, a RegExp must match), no data, and nothing internal in it.
 */
export function expectError(result: GqlResult<unknown>, code: string, status: number, message?: string | RegExp): ErrorShape {
  expect(result.errors, `expected a ${code} error, got ${JSON.stringify(result)}`).toBeDefined();
  expect(result.errors, JSON.stringify(result.errors)).toHaveLength(1);
  const error = errorOf(result);
  expect({ code: error.code, status: error.status }, `error was ${JSON.stringify(result.errors)}`).toEqual({ code, status });
  if (typeof message === "string") expect(error.message).toBe(message);
  else if (message) expect(error.message).toMatch(message);
  // No data, or (for a nullable field) null.
  if (result.data) for (const value of Object.values(result.data as Record<string, unknown>)) expect(value).toBeNull();
  expectNoInternals(result);
  return error;
}

/** Re-evaluates `probe` until it returns a value other than undefined (polling, never a timing assertion). */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Every file of the repository that `sha` did not list as changed has the same blob at `sha~1`
 * and at `sha` (byte equality of everything the rollback must not touch), and the files it did
 * change are exactly `expected`.
 */
export function expectOnlyTouched(t: TestServer, sha: string, expected: string[], project = "demo"): void {
  expect(commitPaths(t, sha, project)).toEqual([...expected].sort());
  const before = blobIds(t, `${sha}~1`, ".", project);
  const after = blobIds(t, sha, ".", project);
  const touched = new Set(expected);
  const untouched = [...new Set([...before.keys(), ...after.keys()])].filter((p) => !touched.has(p));
  expect(untouched.length).toBeGreaterThan(0);
  for (const file of untouched) expect(after.get(file), file).toBe(before.get(file));
}

/** Every file diff of a preview, service files first. */
export function previewFiles(p: PreviewView): FileDiffView[] {
  return [...p.services.flatMap((s) => s.files), ...p.environmentFiles];
}

/** Field changes of a preview in one flat list, comparable to a deployment's `changes`. */
export function previewChanges(p: PreviewView): FieldChangeView[] {
  return [...p.services.flatMap((s) => s.changes), ...p.environmentChanges];
}

/**
 * The commit `sha` is exactly what the preview showed, file by file: the same paths with the same
 * kinds, and for every file the preview's patch turns the commit's before-state into its
 * after-state (and back, reversed). The commit sits right on the head the preview was computed on.
 */
export function expectPreviewEqualsCommit(t: TestServer, p: PreviewView, sha: string, project = "demo"): void {
  expect(parentOf(t, sha, project)).toBe(p.headSha);
  const files = previewFiles(p);
  expect(Object.fromEntries(files.map((f) => [f.path, f.kind]))).toEqual(changedKinds(t, sha, project));
  expect(p.impact.files).toBe(files.length);
  for (const f of files) {
    const before = fileOrNull(t, `${sha}~1`, f.path, project);
    const after = fileOrNull(t, sha, f.path, project);
    expect(f.kind, f.path).toBe(before === null ? "ADDED" : after === null ? "REMOVED" : "MODIFIED");
    expect(applyPatch(before ?? "", f.patch), `patch of ${f.path} applied to the commit's parent`).toBe(after ?? "");
    const [parsed] = parsePatch(f.patch);
    expect(applyPatch(after ?? "", reversePatch(parsed!)), `reversed patch of ${f.path} applied to the commit`).toBe(before ?? "");
  }
}
