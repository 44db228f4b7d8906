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
}
