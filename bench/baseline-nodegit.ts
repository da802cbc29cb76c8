/* eslint-disable no-restricted-imports -- baseline measures raw nodegit */
import NodeGit from "nodegit";

/**
 * The raw-nodegit baselines: the same tree edits and commits the product makes
 * (src/git/nodegit-store.ts: git_tree_create_updated one path at a time, Commit.create,
 * Reference.createMatching), with nothing around them: no GraphQL, no database, no planning.
 */

const { Blob, Commit, Diff, Oid, Reference, Repository, Signature, Tree } = NodeGit;

const BRANCH_REF = "refs/heads/main";
const UPSERT = 0; // GIT_TREE_UPDATE_UPSERT
const FILE_MODE = 0o100644;

export interface FileContent {
  path: string;
  content: Buffer;
}

export class RawNodegit {
  private constructor(private readonly repo: NodeGit.Repository) {}

  static async open(repoPath: string): Promise<RawNodegit> {
    return new RawNodegit(await Repository.openBare(repoPath));
  }

  async head(): Promise<string> {
    return (await Reference.nameToId(this.repo, BRANCH_REF)).tostrS();
  }

  /** Makes each path what it was at `target` (one UPSERT of the entry's id per path), commits, moves the branch. */
  async copyFrom(target: string, paths: string[], message: string): Promise<string> {
    const targetTree = await (await Commit.lookup(this.repo, target)).getTree();
    const updates: { path: string; id: NodeGit.Oid; filemode: number }[] = [];
    for (const p of paths) {
      const entry = await targetTree.entryByPath(p);
      updates.push({ path: p, id: entry.id(), filemode: entry.filemodeRaw() });
    }
    return this.commitUpdates(updates, message);
  }

  /** Writes each file as a new blob (one UPSERT per file), commits, moves the branch. */
  async writeFiles(files: FileContent[], message: string): Promise<string> {
    const updates: { path: string; id: NodeGit.Oid; filemode: number }[] = [];
    for (const f of files) updates.push({ path: f.path, id: await Blob.createFromBuffer(this.repo, f.content, f.content.length), filemode: FILE_MODE });
    return this.commitUpdates(updates, message);
  }

  private async commitUpdates(updates: { path: string; id: NodeGit.Oid; filemode: number }[], message: string): Promise<string> {
    const headOid = await Reference.nameToId(this.repo, BRANCH_REF);
    const head = await Commit.lookup(this.repo, headOid);
    let tree = await head.getTree();
    for (const u of updates) {
      const oid = await tree.createUpdated(this.repo, 1, [{ action: UPSERT, filemode: u.filemode, id: u.id, path: u.path }] as unknown as NodeGit.TreeUpdate);
      tree = await Tree.lookup(this.repo, oid);
    }
    const seconds = Math.floor(Date.now() / 1000);
    const author = Signature.create("Bench", "bench@example.com", seconds, 0);
    const committer = Signature.create("Rollback Server", "rollback-server@localhost", seconds, 0);
    // eslint-disable-next-line @typescript-eslint/await-thenable -- @types/nodegit types Commit.create as synchronous; it returns a Promise
    const oid = await Commit.create(this.repo, null as unknown as string, author, committer, "UTF-8", `${message}\n`, tree, 1, [head]);
    await Reference.createMatching(this.repo, BRANCH_REF, oid, 1, Oid.fromString(headOid.tostrS()), "bench: raw nodegit");
    return oid.tostrS();
  }

  /** The blob at `path` of `revision`. */
  async readFile(revision: string, path: string): Promise<Buffer> {
    const entry = await (await (await Commit.lookup(this.repo, revision)).getTree()).entryByPath(path);
    return (await Blob.lookup(this.repo, entry.id())).content();
  }

  /** Diff of one directory between two revisions, with the unified patches read out. Returns the patch text length. */
  async diffDir(base: string, target: string, dir: string): Promise<{ files: number; patchBytes: number }> {
    const subtree = async (rev: string) => {
      const entry = await (await (await Commit.lookup(this.repo, rev)).getTree()).entryByPath(dir);
      return Tree.lookup(this.repo, entry.id());
    };
    const diff = await Diff.treeToTree(this.repo, await subtree(base), await subtree(target), undefined);
    const text = (await diff.toBuf(Diff.FORMAT.PATCH)) as unknown as string;
    return { files: diff.numDeltas(), patchBytes: text.length };
  }
}
