import type { FileChangeSet } from "../diff/comparison.js";
import { BRANCH, type CommitInfo } from "../git/git-store.js";
import type { GitPushEvent } from "../services/events.js";

/** The GIT_PUSH event of a commit the server wrote inside `dir` (every server commit stays in one tenant-environment). */
export function gitPushOf(project: string, dir: string, commit: CommitInfo, changes: FileChangeSet[]): GitPushEvent {
  const paths = (keep: (f: FileChangeSet) => boolean) =>
    changes
      .filter(keep)
      .map((f) => `${dir}/${f.path}`)
      .sort();
  return {
    project,
    branch: BRANCH,
    before: commit.parents[0] ?? null,
    after: commit.sha,
    tree: commit.tree,
    message: commit.message,
    author: { name: commit.authorName, email: commit.authorEmail },
    date: commit.date,
    added: paths((f) => f.before === null && f.after !== null),
    removed: paths((f) => f.before !== null && f.after === null),
    modified: paths((f) => f.before !== null && f.after !== null),
  };
}
