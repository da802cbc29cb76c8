/**
 * The Git client every other module uses. One implementation (nodegit-store.ts) owns libgit2;
 * nothing outside src/git imports nodegit. Its failures are the errors of errors.ts, with
 * messages safe to show (no paths of the data directory).
 */

export interface Identity {
  name: string;
  email: string;
}

/** One change to a commit's tree. Paths are relative to the repository root, '/'-separated. */
export type TreeWrite =
  /** Create or replace a file. */
  | { type: "file"; path: string; content: string | Buffer }
  /** Remove a file or a whole directory, if present. */
  | { type: "delete"; path: string }
  /**
   * Make `path` (file or directory) what `from` (default: the same path) was at `revision`,
   * or remove it if that was absent there.
   */
  | { type: "copy"; path: string; revision: string; from?: string };

export interface CommitSpec {
  /** The head the writes were computed against; null for the first commit. */
  base: string | null;
  writes: TreeWrite[];
  message: string;
  author: Identity;
  date?: Date;
  /**
   * Paths whose change between `base` and the branch head makes these writes wrong. When the
   * branch moved but none of them changed, the writes are applied on top of the new head.
   * Defaults to the written paths.
   */
  guardPaths?: string[];
}

export interface CommitResult {
  sha: string;
  parent: string | null;
  /** True when the branch had moved past `base` and the writes were re-applied on the new head. */
  rebased: boolean;
}

export interface CommitInfo {
  sha: string;
  /** Id of the commit's root tree. */
  tree: string;
  parents: string[];
  message: string;
  authorName: string;
  authorEmail: string;
  date: Date;
}

export type FileStatus = "ADDED" | "REMOVED" | "MODIFIED";

export interface ChangedFile {
  /** Relative to the directory that was compared. */
  path: string;
  status: FileStatus;
  /** Blob ids of the two sides (null where the file is absent), for readBlob. */
  before: string | null;
  after: string | null;
}

/** One project's repository. */
export interface ProjectRepository {
  readonly project: string;
  /** Path of the local (bare) repository. */
  readonly path: string;
  /** Sha of the branch head, or null while the repository is empty. */
  head(): Promise<string | null>;
  /** Brings the local view up to date with the remote, when there is one. */
  refresh(): Promise<void>;
  /** Full sha of a commit given a full or abbreviated one; null when it is not a commit here. */
  resolveCommit(revision: string): Promise<string | null>;
  commitInfo(sha: string): Promise<CommitInfo>;
  /** True when `ancestor` is `sha` or one of its ancestors. */
  isAncestor(ancestor: string, sha: string): Promise<boolean>;
  /** Every commit reachable from the head, oldest first. */
  history(): Promise<CommitInfo[]>;
  readFile(revision: string, path: string): Promise<Buffer | null>;
  /** Content of a blob by id (as changedFiles gives them). */
  readBlob(id: string): Promise<Buffer>;
  /** Every file below `dir` at `revision`, keyed by path relative to `dir`. */
  readFiles(revision: string, dir: string): Promise<Map<string, Buffer>>;
  /** Paths of every file below `dir` at `revision`, relative to `dir`. */
  listFiles(revision: string, dir: string): Promise<string[]>;
  /** Object id of the file or directory at `path`, or null when absent. Equal ids mean equal content. */
  entryId(revision: string, path: string): Promise<string | null>;
  /** Files below `dir` that differ between two revisions (null `from` means an empty tree). */
  changedFiles(from: string | null, to: string, dir: string): Promise<ChangedFile[]>;
  /** Writes one commit on top of the branch head and moves the branch by compare-and-swap. */
  commit(spec: CommitSpec): Promise<CommitResult>;
  /**
   * Runs `work` with the remote out of the loop: its commits stay local and are pushed once at the
   * end (fast-forward from the head it started on). For bulk writes nobody else can race, such as
   * the demo seed under its lock; a push per commit made seeding a hosted remote take minutes.
   */
  publishOnce<T>(work: () => Promise<T>): Promise<T>;
}

export interface GitStore {
  /** Where a project's bare repository lives (whether or not it exists yet). */
  repositoryPath(project: string): string;
  /** Opens a project's repository, creating an empty one if it does not exist yet. */
  open(project: string): Promise<ProjectRepository>;
  exists(project: string): Promise<boolean>;
  /** The projects that have a local repository, by slug. */
  list(): Promise<string[]>;
  /** Checks that the repositories can be read (for readiness probes). */
  ping(): Promise<void>;
}

export const BRANCH = "main";
export const BRANCH_REF = `refs/heads/${BRANCH}`;
