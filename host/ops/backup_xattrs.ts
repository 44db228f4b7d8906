/**
 * A backup's extended attributes: the host reads them (host/fs/xattr.ts) for the entries of each
 * tree the engine sends, since an engine runs without FFI, and sets them on the nodes as
 * `xattrs` (docs/format.md §8, tree version 2). What cannot be kept (a name that is not UTF-8, an
 * attribute that cannot be read, a system where none can be read) is listed in `notKept`, for
 * the snapshot details (§9.2) and the warnings.
 *
 * @module
 */

import { resolve } from "node:path";
import { readXattrs, XATTR_SIZE_MAX, xattrsSupported } from "../fs/xattr.ts";
import { compareNames, type TreeNode } from "../repository/tree.ts";
import type { Skipped } from "../../plugins/sdk/engine_types.ts";

export class BackupXattrs {
  /** Entries backed up without some of their extended attributes, and why. */
  readonly notKept: Skipped[] = [];
  readonly #supported = xattrsSupported();

  /** `sources` are the backup's source paths, absolute and resolved. */
  constructor(
    private sources: string[],
    private warn: (path: string, reason: string) => void,
  ) {
    if (!this.#supported && Deno.build.os !== "windows") {
      for (const s of sources) {
        this.#notKept(
          s,
          `extended attributes are not read on ${Deno.build.os}: any under this path are not kept`,
        );
      }
    }
  }

  /**
   * Sets `xattrs` on each of `nodes`, the entries of the directory `dir` as an engine sent them.
   * `dir` must be a resolved absolute path at or under a source (the engine may read nothing
   * else); an engine that sends none gets nothing read, and keeps no `xattrs` it set itself.
   */
  directory(dir: unknown, nodes: TreeNode[]): void {
    if (dir === undefined) {
      for (const n of nodes) delete n.xattrs; // only what the host read itself
      return;
    }
    if (typeof dir !== "string" || resolve(dir) !== dir || !this.#underSource(dir)) {
      throw new TypeError(
        `engine tree directory ${JSON.stringify(dir)} is not a resolved path under a source`,
      );
    }
    for (const n of nodes) {
      // Checked again when the tree is encoded; here so no other path is ever read.
      if (typeof n.name !== "string" || /^\.{0,2}$|[/\0]/.test(n.name)) {
        throw new TypeError(`engine tree entry ${JSON.stringify(n.name)} is not a file name`);
      }
      this.entry(dir === "/" ? `/${n.name}` : `${dir}/${n.name}`, n);
    }
  }

  /** Sets `xattrs` on `node`, the entry at `path` (none when `path` is undefined). */
  entry(path: string | undefined, node: TreeNode): void {
    delete node.xattrs; // only what the host read itself
    if (!this.#supported || path === undefined) return;
    let read: ReturnType<typeof readXattrs>;
    try {
      read = readXattrs(path);
    } catch (err) {
      this.#notKept(path, `extended attributes not kept: ${(err as Error).message}`);
      return;
    }
    for (const name of read.unnamed) {
      this.#notKept(path, `extended attribute ${name} not kept: its name is not UTF-8`);
    }
    const kept = read.attrs.filter(([name, value]) => {
      if (value.length <= XATTR_SIZE_MAX) return true;
      this.#notKept(path, `extended attribute "${name}" not kept: over ${XATTR_SIZE_MAX} bytes`);
      return false;
    });
    if (kept.length === 0) return;
    kept.sort((a, b) => compareNames(a[0], b[0]));
    node.xattrs = kept.map(([name, value]) => [name, value.toBase64()]);
  }

  #underSource(dir: string): boolean {
    return this.sources.some((s) => dir === s || dir.startsWith(s === "/" ? "/" : `${s}/`));
  }

  #notKept(path: string, reason: string): void {
    this.notKept.push({ path, reason });
    this.warn(path, reason);
  }
}
