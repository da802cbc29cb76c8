/**
 * Keeps a replica's local bare repository in step with the project's hosted remote
 * (scale-out mode). Implemented in remote-sync-cli.ts.
 */
export interface RemoteSync {
  /** Creates the local repository as a bare clone of the remote. */
  cloneInto(project: string, localPath: string): Promise<void>;
  /** Fetches the remote branch and moves the local branch to it. */
  fetch(project: string, localPath: string): Promise<void>;
  /**
   * Pushes `sha` to the remote branch if the remote still points at `expected`.
   * False when another replica pushed first (non-fast-forward); the local branch is then reset to the remote's.
   */
  push(project: string, localPath: string, sha: string, expected: string | null): Promise<boolean>;
  /** Checks the remote answers. */
  ping(project: string): Promise<void>;
}
