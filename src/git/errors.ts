/** The errors of the Git layer (as Argo CD's util/git/errors.go): callers branch on these, never on libgit2's messages. */

/** The branch moved and changed paths these writes depend on. */
export class GitConflictError extends Error {
  constructor(
    readonly base: string | null,
    readonly head: string | null,
    readonly paths: string[],
  ) {
    super(`branch moved from ${base?.slice(0, 7) ?? "(none)"} to ${head?.slice(0, 7) ?? "(none)"} and changed ${paths.join(", ")}`);
    this.name = "GitConflictError";
  }
}

/**
 * The branch kept moving under this writer (other writers or replicas won every attempt): a lost
 * race, not a failure of Git; the caller may try again.
 */
export class GitBusyError extends GitConflictError {
  constructor(base: string | null, head: string | null, attempts: number) {
    super(base, head, []);
    this.message = `branch moved from ${base?.slice(0, 7) ?? "(none)"} to ${head?.slice(0, 7) ?? "(none)"} again and again: other writers won ${attempts} attempts in a row; try again`;
    this.name = "GitBusyError";
  }
}

/** The writes would leave the tree exactly as it is: there is nothing to commit. */
export class NothingToCommitError extends Error {
  constructor(readonly head: string | null) {
    super("nothing to commit: the tree would not change");
    this.name = "NothingToCommitError";
  }
}

/**
 * The Git layer itself failed (I/O, a locked ref, a corrupt object, the remote). The message is
 * safe to show a client: paths of the data directory are cut to their repository-relative part
 * (libgit2 says "failed to lock file '/data/repos/p.git/refs/heads/main.lock'"); the original
 * error stays in `cause` for the log.
 */
export class GitStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(withoutPaths(message), options);
    this.name = "GitStoreError";
  }
}

/**
 * A file:// remote (a path of this machine) named "the remote", credentials cut out of other
 * URLs; absolute paths cut to what follows `<repo>.git/`, or else to their last segment.
 */
export function withoutPaths(message: string): string {
  return message
    .replace(/\bfile:\/\/[^\s'"]*/gi, "the remote")
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s'"/@]*@/gi, "$1")
    .replace(/(?<![\w.:/])\/[^\s'"]*?\.git\/([^\s'"]*)/g, "$1")
    .replace(/(?<![\w.:/])\/(?:[^\s'"/]+\/)+([^\s'"/]+)/g, "$1");
}

/** Any failure of a Git operation as one of this module's errors: libgit2's and the file system's become GitStoreError. */
export function asGitError(err: unknown): Error {
  if (err instanceof GitConflictError || err instanceof NothingToCommitError || err instanceof GitStoreError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new GitStoreError(message.split("\n")[0]!, { cause: err });
}
