/**
 * A tree node: one entry of a directory, as an engine builds it and the host stores it
 * (docs/format.md §8, validated by host/repository/tree.ts).
 *
 * @module
 */

/**
 * One directory entry.
 * - `name`: one path component, any well-formed Unicode; never "", ".", "..", no "/" or NUL.
 * - `mode`: permission bits incl. setuid/setgid/sticky (`st_mode & 0o7777`).
 * - `mtime`/`atime`/`ctime`: nanoseconds since the epoch as a decimal string (may be negative).
 * - files carry `size` and `content` (blob ids in order; `[]` when empty); dirs carry `subtree`
 *   (a tree blob id); symlinks carry `target`. No node carries another type's fields.
 * - `inode`/`dev` (decimal strings) and `links` are set together, when `links > 1`, so hard
 *   links can be restored as links.
 * - `xattrs`: extended attributes as [name, value as padded base64] pairs, in name order. The
 *   host sets them from what it reads itself (an engine cannot read them); a tree with any is
 *   tree version 2.
 * - `mirror`: a file whose bytes are one plain object under the repository's `mirror/` prefix
 *   (the `sync` engine) instead of blobs: its `content` is `[]`; a tree with any is tree
 *   version 3 (docs/format.md §8).
 */
export interface TreeNode {
  name: string;
  type: "file" | "dir" | "symlink";
  mode: number;
  mtime: string;
  atime?: string;
  ctime?: string;
  uid?: number;
  gid?: number;
  size?: number;
  content?: string[];
  subtree?: string;
  target?: string;
  inode?: string;
  dev?: string;
  links?: number;
  xattrs?: [string, string][];
  mirror?: MirrorRef;
}

/**
 * Where a mirrored file's bytes are (docs/format.md §8): the object `key` (under `mirror/`),
 * its `version` on a versioned S3 bucket, the SHA-256 of its bytes (64 lowercase hex digits)
 * and the storage class it was written in.
 */
export interface MirrorRef {
  key: string;
  version?: string;
  sha256: string;
  class: "STANDARD" | "STANDARD_IA" | "GLACIER_IR" | "GLACIER" | "DEEP_ARCHIVE";
  /** The object is sealed (`encrypt = true`, docs/format.md §8.1); omitted otherwise. */
  sealed?: true;
}
