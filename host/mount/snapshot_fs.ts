/**
 * The names a mount shows (docs/mount.md "Layout"), as inodes: the top level `ids/<id>/`,
 * `dates/<time>` and `latest`, and below each snapshot's root its trees (docs/format.md §8),
 * read from hot metadata only; nothing here reads a data pack.
 *
 * Inode numbers are given out as directories are read, from a counter that only goes up, so a
 * number is never reused for another entry while the kernel may still hold it. The kernel's
 * lookups are counted and its forgets subtract: an entry whose count reaches zero is dropped
 * from the table, with the listing a directory cached (read again if it is looked up again).
 * The top level and each snapshot's root are kept for the life of the mount.
 *
 * @module
 */

import type { Repository, SnapshotEntry } from "../repository/repository.ts";
import type { TreeNode } from "../repository/tree.ts";

/** The root directory's inode number (FUSE_ROOT_ID). */
export const ROOT_INO = 1;

/** One name in the mount: a directory, a file or a symlink. */
export interface Inode {
  ino: number;
  type: TreeNode["type"];
  /** Permission bits (no type bits). */
  mode: number;
  size: number;
  uid: number;
  gid: number;
  /** Nanoseconds since the epoch. */
  mtimeNs: bigint;
  atimeNs: bigint;
  ctimeNs: bigint;
  /** Where it is in the mount, from its root: `ids/3f2a9c01/docs/a.txt`. */
  path: string;
  /** The snapshot it is in (absent at the top level). */
  snapshot?: string;
  /** Its path inside that snapshot: `/docs/a.txt`. */
  snapshotPath?: string;
  target?: string;
  /** A file's blob ids, in order. */
  content?: string[];
  /** A mirrored file's object (docs/format.md §8 `mirror`): its bytes are not in blobs. */
  mirror?: string;
  /** A file's extended attributes, as stored (base64 values). */
  xattrs?: [string, string][];
  /** A directory of a snapshot: its tree, read when first listed. */
  subtree?: string;
  /** A directory's entries by name, once known. */
  children?: Map<string, Inode>;
}

/** What a mount shows: every snapshot (`ids`, `dates`, `latest`), or one snapshot's root. */
export class SnapshotFs {
  /** The inodes the kernel may name: kept ones, and those whose lookup count is not zero. */
  #inodes = new Map<number, Inode>();
  /** The kernel's lookups of each inode not kept for good, less its forgets. */
  #lookups = new Map<number, number>();
  /** The top level and each snapshot's root: never forgotten. */
  #kept = new Set<number>();
  #next = ROOT_INO;
  #loading = new Map<number, Promise<Map<string, Inode>>>();
  /** Who owns what has no stored owner: the user who mounted. */
  #owner: { uid: number; gid: number };

  /**
   * The mount of `snapshots` (oldest first). With `only`, the root is that snapshot's root
   * instead of the three folders.
   */
  constructor(
    readonly repo: Repository,
    snapshots: SnapshotEntry[],
    options: { only?: SnapshotEntry; uid?: number; gid?: number } = {},
  ) {
    const uid = options.uid ?? 0;
    const gid = options.gid ?? 0;
    this.#owner = { uid, gid };
    const newest = snapshots.at(-1);
    const now = newest ? isoToNs(newest.manifest.time) : BigInt(Date.now()) * 1_000_000n;
    const synthetic = (path: string, type: TreeNode["type"], ns: bigint, extra = {}) =>
      this.#keep({
        type,
        mode: type === "dir" ? 0o555 : 0o777,
        size: 0,
        uid,
        gid,
        mtimeNs: ns,
        atimeNs: ns,
        ctimeNs: ns,
        path,
        ...extra,
      });
    if (options.only) {
      const s = options.only;
      synthetic("", "dir", isoToNs(s.manifest.time), rootOf(s));
      return;
    }
    const root = synthetic("", "dir", now, { children: new Map() });
    const ids = synthetic("ids", "dir", now, { children: new Map() });
    const dates = synthetic("dates", "dir", now, { children: new Map() });
    root.children!.set("ids", ids);
    root.children!.set("dates", dates);
    const names = shortIds(snapshots.map((s) => s.id));
    for (const s of snapshots) {
      const name = names.get(s.id)!;
      const ns = isoToNs(s.manifest.time);
      ids.children!.set(name, synthetic(`ids/${name}`, "dir", ns, rootOf(s)));
      let date = s.manifest.time;
      if (dates.children!.has(date)) date = `${date}_${name}`;
      dates.children!.set(
        date,
        synthetic(`dates/${date}`, "symlink", ns, { target: `../ids/${name}` }),
      );
    }
    if (newest) {
      root.children!.set(
        "latest",
        synthetic("latest", "symlink", now, { target: `ids/${names.get(newest.id)}` }),
      );
    }
  }

  /** The inode numbered `ino`, if the kernel may name it (a lookup of it is not forgotten). */
  get(ino: number): Inode | undefined {
    return this.#inodes.get(ino);
  }

  /** Counts one lookup of `inode` the kernel was answered with (FUSE's `nlookup`). */
  remember(inode: Inode): void {
    if (this.#kept.has(inode.ino)) return;
    this.#lookups.set(inode.ino, (this.#lookups.get(inode.ino) ?? 0) + 1);
    this.#inodes.set(inode.ino, inode);
  }

  /**
   * Subtracts `n` of `ino`'s lookups (the kernel's forget); at zero the inode leaves the table,
   * and a directory drops its cached listing.
   */
  forget(ino: number, n: number): void {
    const left = (this.#lookups.get(ino) ?? 0) - n;
    if (left > 0) return void this.#lookups.set(ino, left);
    this.#lookups.delete(ino);
    const inode = this.#inodes.get(ino);
    if (!inode || this.#kept.has(ino)) return;
    this.#inodes.delete(ino);
    delete inode.children;
  }

  /** How many inodes the table holds (kept ones included): what the mount's memory grows with. */
  get size(): number {
    return this.#inodes.size;
  }

  /** The entries of directory `dir`, read from its tree the first time. */
  async children(dir: Inode): Promise<Map<string, Inode>> {
    if (dir.children) return dir.children;
    let loading = this.#loading.get(dir.ino);
    if (!loading) {
      loading = this.#load(dir).finally(() => this.#loading.delete(dir.ino));
      this.#loading.set(dir.ino, loading);
    }
    return await loading;
  }

  async #load(dir: Inode): Promise<Map<string, Inode>> {
    const tree = await this.repo.tree(dir.subtree!);
    const children = new Map<string, Inode>();
    for (const n of tree.nodes) {
      const mtimeNs = BigInt(n.mtime);
      const snapshotPath = dir.snapshotPath === "/"
        ? `/${n.name}`
        : `${dir.snapshotPath}/${n.name}`;
      children.set(
        n.name,
        this.#add({
          type: n.type,
          mode: n.mode,
          size: n.type === "file" ? n.size ?? 0 : n.type === "symlink" ? byteLength(n.target!) : 0,
          uid: n.uid ?? this.#owner.uid,
          gid: n.gid ?? this.#owner.gid,
          mtimeNs,
          atimeNs: n.atime !== undefined ? BigInt(n.atime) : mtimeNs,
          ctimeNs: n.ctime !== undefined ? BigInt(n.ctime) : mtimeNs,
          path: `${dir.path}/${n.name}`,
          snapshot: dir.snapshot,
          snapshotPath,
          ...(n.target !== undefined ? { target: n.target } : {}),
          ...(n.content !== undefined ? { content: n.content } : {}),
          ...(n.xattrs !== undefined ? { xattrs: n.xattrs } : {}),
          ...(n.mirror !== undefined ? { mirror: n.mirror.key } : {}),
          ...(n.subtree !== undefined ? { subtree: n.subtree } : {}),
        }),
      );
    }
    // A directory forgotten while its tree was read keeps no listing.
    if (this.#inodes.get(dir.ino) === dir) dir.children = children;
    return children;
  }

  /** A new inode, known to the kernel only once a lookup answers with it. */
  #add(fields: Omit<Inode, "ino">): Inode {
    return { ino: this.#next++, ...fields };
  }

  /** A new inode kept for the life of the mount. */
  #keep(fields: Omit<Inode, "ino">): Inode {
    const inode = this.#add(fields);
    this.#inodes.set(inode.ino, inode);
    this.#kept.add(inode.ino);
    return inode;
  }
}

/** The fields of a snapshot's root directory. */
function rootOf(s: SnapshotEntry): Partial<Inode> {
  return { subtree: s.manifest.root, snapshot: s.id, snapshotPath: "/", mode: 0o555 };
}

/** Each id's shortest prefix of at least 8 digits that no other id shares. */
function shortIds(ids: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const id of ids) {
    let n = 8;
    while (ids.some((o) => o !== id && o.startsWith(id.slice(0, n)))) n++;
    out.set(id, id.slice(0, n));
  }
  return out;
}

function isoToNs(iso: string): bigint {
  return BigInt(Date.parse(iso)) * 1_000_000n;
}

function byteLength(s: string): number {
  return new TextEncoder().encode(s).length;
}
