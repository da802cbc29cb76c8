import { mkdir, access, readdir } from "node:fs/promises";
import path from "node:path";
import NodeGit from "nodegit";
import { LRUCache } from "lru-cache";
import { KeyedMutex } from "../lib/mutex.js";
import { asGitError, GitBusyError, GitConflictError, GitStoreError, NothingToCommitError } from "./errors.js";
import { BRANCH_REF, type ChangedFile, type CommitInfo, type CommitResult, type CommitSpec, type GitStore, type ProjectRepository, type TreeWrite } from "./git-store.js";
import { isSlug } from "./layout.js";
import type { RemoteSync } from "./remote-sync.js";

const { Blob, Commit, Diff, Oid, Reference, Repository, Revwalk, Signature, Tree, Treebuilder } = NodeGit;
type Repo = NodeGit.Repository;
type TreeT = NodeGit.Tree;

const FILE_MODE = 0o100644;
const UPSERT = 0; // GIT_TREE_UPDATE_UPSERT
const REMOVE = 1; // GIT_TREE_UPDATE_REMOVE
const GIT_EMODIFIED = -15;
const MAX_CAS_ATTEMPTS = 20;
const FULL_SHA = /^[0-9a-f]{40}$/;

export interface NodegitStoreOptions {
  /** Directory holding `<project>.git` bare repositories. */
  root: string;
  /** Keeps each local repository in step with a hosted remote (scale-out mode). */
  remote?: RemoteSync;
}

/**
 * GitStore on libgit2. Tree edits go through git_tree_create_updated, one path at a time
 * (nodegit 0.28 mis-marshals arrays of several updates), so replacing a tenant-environment is
 * one tree-entry swap whatever the size of the directory.
 */
export class NodegitStore implements GitStore {
  private readonly repos = new Map<string, Promise<NodegitProjectRepository>>();

  constructor(private readonly options: NodegitStoreOptions) {}

  repositoryPath(project: string): string {
    if (!isSlug(project)) throw new GitStoreError(`invalid project name "${project}"`);
    return path.join(this.options.root, `${project}.git`);
  }

  async exists(project: string): Promise<boolean> {
    try {
      await access(path.join(this.repositoryPath(project), "HEAD"));
      return true;
    } catch {
      return false;
    }
  }

  async list(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.options.root);
    } catch {
      return [];
    }
    const slugs = names
      .filter((n) => n.endsWith(".git"))
      .map((n) => n.slice(0, -".git".length))
      .filter(isSlug);
    const present = await Promise.all(slugs.map((slug) => this.exists(slug)));
    return slugs.filter((_, i) => present[i]).sort();
  }

  open(project: string): Promise<NodegitProjectRepository> {
    let repo = this.repos.get(project);
    if (!repo) {
      repo = libgit2(() => this.openOrCreate(project));
      this.repos.set(project, repo);
      repo.catch(() => this.repos.delete(project));
    }
    return repo;
  }

  private async openOrCreate(project: string): Promise<NodegitProjectRepository> {
    const dir = this.repositoryPath(project);
    let repo: Repo;
    if (await this.exists(project)) {
      repo = await Repository.openBare(dir);
    } else if (this.options.remote) {
      await mkdir(this.options.root, { recursive: true });
      await this.options.remote.cloneInto(project, dir);
      repo = await Repository.openBare(dir);
    } else {
      await mkdir(dir, { recursive: true });
      repo = await Repository.init(dir, 1);
      // HEAD names the branch even before its first commit, so clones check out `main`.
      await Reference.symbolicCreate(repo, "HEAD", BRANCH_REF, 1, "init");
    }
    return new NodegitProjectRepository(project, dir, repo, this.options.remote);
  }

  async ping(): Promise<void> {
    await mkdir(this.options.root, { recursive: true });
    await access(this.options.root);
  }
}

const writeLocks = new KeyedMutex();

export class NodegitProjectRepository implements ProjectRepository {
  /** Set while publishOnce runs: commits skip the remote until its single push. */
  private deferRemote = false;
  // Commits, trees and blobs never change once written, so what was read once can be kept: a
  // rollback reads the same head and target trees several times (plan, guards, record). fetch()
  // also has concurrent readers of one object wait for a single load; a failed load is not kept.
  private readonly trees = new LRUCache<string, TreeT>({ max: 512, fetchMethod: (sha) => this.loadTree(sha) });
  /** Keyed `<sha>:<dir>`; `tree: null` when the directory does not exist at that commit. */
  private readonly subtrees = new LRUCache<string, { tree: TreeT | null }>({
    max: 2048,
    fetchMethod: async (key) => ({ tree: await this.loadSubtree(key.slice(0, 40), key.slice(41)) }),
  });
  /** Entries of a commit's tree by path, keyed `<sha>:<path>`; `entry: null` when nothing is there. */
  private readonly entries = new LRUCache<string, { entry: NodeGit.TreeEntry | null }>({
    max: 4096,
    fetchMethod: async (key) => ({ entry: await entryOrNull(await this.treeAt(key.slice(0, 40)), key.slice(41)) }),
  });
  /** Commits' metadata, kept from their lookup or, for the commits written here, from their writing. */
  private readonly infos = new LRUCache<string, CommitInfo>({ max: 1024 });
  private readonly blobs = new LRUCache<string, Buffer>({
    maxSize: 64 * 1024 * 1024,
    sizeCalculation: (b) => b.length + 64,
    fetchMethod: (id) => libgit2(async () => Buffer.from((await Blob.lookup(this.repo, Oid.fromString(id))).content())),
  });

  constructor(
    readonly project: string,
    readonly path: string,
    private readonly repo: Repo,
    private readonly remote?: RemoteSync,
  ) {}

  async head(): Promise<string | null> {
    try {
      const oid = await Reference.nameToId(this.repo, BRANCH_REF);
      return oid.tostrS();
    } catch {
      return null;
    }
  }

  async refresh(): Promise<void> {
    // While publishOnce runs the local branch is ahead of the remote on purpose; a forced fetch would drop it.
    // Under the write lock: a fetch moving the branch while a commit of this process moves it too
    // fails ("cannot lock ref").
    const remote = this.remote;
    if (remote && !this.deferRemote) await writeLocks.run(this.path, () => remote.fetch(this.project, this.path));
  }

  async resolveCommit(revision: string): Promise<string | null> {
    if (!/^[0-9a-f]{4,40}$/i.test(revision)) return null;
    try {
      if (revision.length === 40) return (await Commit.lookup(this.repo, revision)).sha();
      const obj = await NodeGit.Revparse.single(this.repo, revision);
      if (obj.type() !== (NodeGit.Object.TYPE.COMMIT as number)) return null;
      return obj.id().tostrS();
    } catch {
      return null;
    }
  }

  async commitInfo(sha: string): Promise<CommitInfo> {
    let info = FULL_SHA.test(sha) ? this.infos.get(sha) : undefined;
    if (!info) {
      info = await libgit2(async () => toInfo(await Commit.lookup(this.repo, sha)));
      this.infos.set(info.sha, info);
    }
    return { ...info, parents: [...info.parents] };
  }

  async isAncestor(ancestor: string, sha: string): Promise<boolean> {
    if (ancestor === sha) return true;
    try {
      return Boolean(await NodeGit.Graph.descendantOf(this.repo, Oid.fromString(sha), Oid.fromString(ancestor)));
    } catch {
      return false;
    }
  }

  history(): Promise<CommitInfo[]> {
    return libgit2(() => this.walkHistory());
  }

  private async walkHistory(): Promise<CommitInfo[]> {
    const head = await this.head();
    if (!head) return [];
    const walk = Revwalk.create(this.repo);
    walk.sorting(Revwalk.SORT.TOPOLOGICAL | Revwalk.SORT.REVERSE);
    walk.push(Oid.fromString(head));
    const out: CommitInfo[] = [];
    for (;;) {
      const batch = await walk.getCommits(500);
      if (batch.length === 0) break;
      for (const c of batch) out.push(toInfo(c));
      if (batch.length < 500) break;
    }
    return out;
  }

  private async treeAt(revision: string): Promise<TreeT> {
    // Only full shas name one commit for good; anything shorter is resolved every time.
    return FULL_SHA.test(revision) ? (await this.trees.fetch(revision))! : this.loadTree(revision);
  }

  private loadTree(revision: string): Promise<TreeT> {
    return libgit2(async () => (await Commit.lookup(this.repo, revision)).getTree());
  }

  private async subtree(revision: string, dir: string): Promise<TreeT | null> {
    const clean = trimSlashes(dir);
    if (clean === "") return this.treeAt(revision);
    return FULL_SHA.test(revision) ? (await this.subtrees.fetch(`${revision}:${clean}`))!.tree : this.loadSubtree(revision, clean);
  }

  /**
   * The entry at `entryPath` (clean) of a revision's tree. Under concurrent requests every libgit2
   * call also costs the main thread time: one per path and commit (which never change) is enough.
   */
  private async entryAt(revision: string, entryPath: string): Promise<NodeGit.TreeEntry | null> {
    if (!FULL_SHA.test(revision)) return entryOrNull(await this.treeAt(revision), entryPath);
    return (await this.entries.fetch(`${revision}:${entryPath}`))!.entry;
  }

  private loadSubtree(revision: string, dir: string): Promise<TreeT | null> {
    return libgit2(async () => {
      const entry = await this.entryAt(revision, dir);
      if (!entry || !entry.isTree()) return null;
      return Tree.lookup(this.repo, entry.id());
    });
  }

  /** A blob's bytes, copied out of libgit2 (the cached copy must not depend on the lifetime of its blob object). */
  private async blobContent(id: NodeGit.Oid): Promise<Buffer> {
    return (await this.blobs.fetch(id.tostrS()))!;
  }

  readBlob(id: string): Promise<Buffer> {
    return this.blobContent(Oid.fromString(id));
  }

  async readFile(revision: string, filePath: string): Promise<Buffer | null> {
    const entry = await this.entryAt(revision, trimSlashes(filePath));
    if (!entry || !entry.isBlob()) return null;
    return this.blobContent(entry.id());
  }

  async readFiles(revision: string, dir: string): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    const tree = await this.subtree(revision, dir);
    if (!tree) return out;
    await libgit2(() =>
      walkTree(this.repo, tree, "", async (rel, entry) => {
        out.set(rel, await this.blobContent(entry.id()));
      }),
    );
    return out;
  }

  async listFiles(revision: string, dir: string): Promise<string[]> {
    const out: string[] = [];
    const tree = await this.subtree(revision, dir);
    if (!tree) return out;
    await libgit2(() =>
      walkTree(this.repo, tree, "", async (rel) => {
        out.push(rel);
      }),
    );
    return out;
  }

  async entryId(revision: string, entryPath: string): Promise<string | null> {
    const clean = trimSlashes(entryPath);
    if (clean === "") return (await this.treeAt(revision)).id().tostrS();
    const entry = await this.entryAt(revision, clean);
    return entry ? entry.sha() : null;
  }

  changedFiles(from: string | null, to: string, dir: string): Promise<ChangedFile[]> {
    return libgit2(() => this.diffTrees(from, to, dir));
  }

  private async diffTrees(from: string | null, to: string, dir: string): Promise<ChangedFile[]> {
    const oldTree = from ? await this.subtree(from, dir) : null;
    const newTree = await this.subtree(to, dir);
    if (oldTree && newTree && oldTree.id().equal(newTree.id())) return [];
    const diff = await Diff.treeToTree(this.repo, oldTree ?? undefined, newTree ?? undefined, undefined);
    const out: ChangedFile[] = [];
    const count = diff.numDeltas();
    for (let i = 0; i < count; i++) {
      const delta = diff.getDelta(i);
      const status = delta.status();
      const before = delta.oldFile();
      const after = delta.newFile();
      if (status === (Diff.DELTA.ADDED as number)) out.push({ path: after.path(), status: "ADDED", before: null, after: after.id().tostrS() });
      else if (status === (Diff.DELTA.DELETED as number)) out.push({ path: before.path(), status: "REMOVED", before: before.id().tostrS(), after: null });
      else out.push({ path: after.path(), status: "MODIFIED", before: before.id().tostrS(), after: after.id().tostrS() });
    }
    return out;
  }

  /** Applies the writes to `base` and returns the new tree (not yet committed). */
  private async applyWrites(base: TreeT | null, writes: TreeWrite[]): Promise<TreeT> {
    let tree = base ?? (await emptyTree(this.repo));
    for (const write of writes) {
      const p = trimSlashes(write.path);
      if (write.type === "file") {
        const buf = typeof write.content === "string" ? Buffer.from(write.content, "utf8") : write.content;
        const blob = await Blob.createFromBuffer(this.repo, buf, buf.length);
        tree = await updateTree(this.repo, tree, UPSERT, FILE_MODE, blob, p);
      } else if (write.type === "delete") {
        if (await entryOrNull(tree, p)) tree = await updateTree(this.repo, tree, REMOVE, 0, null, p);
      } else {
        const source = await this.entryAt(write.revision, trimSlashes(write.from ?? write.path));
        if (source) tree = await updateTree(this.repo, tree, UPSERT, source.filemodeRaw(), source.id(), p);
        else if (await entryOrNull(tree, p)) tree = await updateTree(this.repo, tree, REMOVE, 0, null, p);
      }
    }
    return tree;
  }

  private async guardedPathsChanged(base: string | null, head: string | null, guards: string[]): Promise<string[]> {
    if (base === head) return [];
    if (!base || !head) return guards;
    const changed: string[] = [];
    for (const guard of guards) {
      if ((await this.entryId(base, guard)) !== (await this.entryId(head, guard))) changed.push(guard);
    }
    return changed;
  }

  commit(spec: CommitSpec): Promise<CommitResult> {
    // Writers in this process queue up; compare-and-swap covers other processes and replicas.
    return writeLocks.run(this.path, () => libgit2(() => this.commitNow(spec)));
  }

  private async commitNow(spec: CommitSpec): Promise<CommitResult> {
    const guards = spec.guardPaths ?? spec.writes.map((w) => w.path);
    const remote = this.deferRemote ? undefined : this.remote;
    for (let attempt = 1; ; attempt++) {
      if (remote) await remote.fetch(this.project, this.path);
      const head = await this.head();
      const changed = await this.guardedPathsChanged(spec.base, head, guards);
      if (changed.length > 0) throw new GitConflictError(spec.base, head, changed);

      const headTree = head ? await this.treeAt(head) : null;
      const tree = await this.applyWrites(headTree, spec.writes);
      if (headTree && tree.id().equal(headTree.id())) throw new NothingToCommitError(head);

      const when = spec.date ?? new Date();
      const seconds = Math.floor(when.getTime() / 1000);
      const author = Signature.create(spec.author.name, spec.author.email, seconds, 0);
      const committer = Signature.create("Rollback Server", "rollback-server@localhost", seconds, 0);
      const parents = head ? [await Commit.lookup(this.repo, head)] : [];
      const message = spec.message.endsWith("\n") ? spec.message : `${spec.message}\n`;
      // eslint-disable-next-line @typescript-eslint/await-thenable -- @types/nodegit types Commit.create as synchronous; it returns a Promise
      const oid = await Commit.create(this.repo, null as unknown as string, author, committer, "UTF-8", message, tree, parents.length, parents);
      const sha = oid.tostrS();
      // What reading the commit back would give: the next commit builds on its tree, recording it reads its metadata.
      this.trees.set(sha, tree);
      this.infos.set(sha, {
        sha,
        tree: tree.id().tostrS(),
        parents: head ? [head] : [],
        message,
        authorName: author.name(),
        authorEmail: author.email(),
        date: new Date(seconds * 1000),
      });

      const moved = await this.compareAndSwap(head, oid);
      if (moved && remote) {
        const pushed = await remote.push(this.project, this.path, sha, head);
        if (!pushed) {
          // Another replica won the race: take its head and try again on top of it.
          if (attempt >= MAX_CAS_ATTEMPTS) throw new GitBusyError(spec.base, await this.head(), attempt);
          continue;
        }
      }
      if (moved) return { sha, parent: head, rebased: head !== spec.base };
      if (attempt >= MAX_CAS_ATTEMPTS) throw new GitBusyError(spec.base, await this.head(), attempt);
    }
  }

  async publishOnce<T>(work: () => Promise<T>): Promise<T> {
    if (!this.remote || this.deferRemote) return work();
    await this.remote.fetch(this.project, this.path);
    const start = await this.head();
    this.deferRemote = true;
    let result: T;
    try {
      result = await work();
    } finally {
      this.deferRemote = false;
    }
    const end = await this.head();
    if (end && end !== start && !(await this.remote.push(this.project, this.path, end, start))) {
      throw new GitStoreError(`could not publish ${this.project}: the remote moved while its commits were written locally`);
    }
    return result;
  }

  /** Moves the branch from `expected` to `next`; false when someone else moved it first. */
  private async compareAndSwap(expected: string | null, next: NodeGit.Oid): Promise<boolean> {
    try {
      if (expected === null) {
        await Reference.create(this.repo, BRANCH_REF, next, 0, "rollback-server: first commit");
      } else {
        await Reference.createMatching(this.repo, BRANCH_REF, next, 1, Oid.fromString(expected), "rollback-server: commit");
      }
      return true;
    } catch (err) {
      const errno = (err as { errno?: number }).errno;
      if (errno === GIT_EMODIFIED || errno === -4 /* GIT_EEXISTS */) return false;
      throw new GitStoreError(`could not move ${BRANCH_REF}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** Runs a libgit2 operation; whatever it throws leaves as one of errors.ts's errors (no paths in messages). */
async function libgit2<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw asGitError(err);
  }
}

function toInfo(c: NodeGit.Commit): CommitInfo {
  const author = c.author();
  return {
    sha: c.sha(),
    tree: c.treeId().tostrS(),
    parents: c.parents().map((p) => p.tostrS()),
    message: c.message(),
    authorName: author.name(),
    authorEmail: author.email(),
    date: new Date(c.time() * 1000),
  };
}

function trimSlashes(p: string): string {
  return p.replace(/^\/+|\/+$/g, "");
}

async function entryOrNull(tree: TreeT, entryPath: string): Promise<NodeGit.TreeEntry | null> {
  try {
    return await tree.entryByPath(entryPath);
  } catch {
    return null;
  }
}

async function walkTree(repo: Repo, tree: TreeT, prefix: string, visit: (rel: string, entry: NodeGit.TreeEntry) => Promise<void>): Promise<void> {
  for (const entry of tree.entries()) {
    const rel = prefix ? `${prefix}/${entry.name()}` : entry.name();
    if (entry.isTree()) await walkTree(repo, await Tree.lookup(repo, entry.id()), rel, visit);
    else if (entry.isBlob()) await visit(rel, entry);
  }
}

async function emptyTree(repo: Repo): Promise<TreeT> {
  const builder = await Treebuilder.create(repo, undefined);
  return Tree.lookup(repo, await builder.write());
}

async function updateTree(repo: Repo, tree: TreeT, action: number, filemode: number, id: NodeGit.Oid | null, entryPath: string): Promise<TreeT> {
  // `id` must be an Oid even for removals; the tree's own id is a harmless placeholder.
  const update = { action, filemode, id: id ?? tree.id(), path: entryPath };
  const oid = await tree.createUpdated(repo, 1, [update] as unknown as NodeGit.TreeUpdate);
  return Tree.lookup(repo, oid);
}
