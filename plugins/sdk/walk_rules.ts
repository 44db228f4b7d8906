/**
 * The walk's own exclusions (docs/plugins.md §5.3), shared by the engines' walker and the
 * host's count of a backup's totals, so both leave out the same entries:
 *
 * - a folder (below a source) holding one of the `excludeIfPresent` names is left out whole; a
 *   name counts when any entry of that name is in the folder, except `CACHEDIR.TAG`, which counts
 *   only as a regular file that starts with the signature the Cache Directory Tagging
 *   Specification (https://bford.info/cachedir/) requires, so that a stray file of that name
 *   does not hide a folder;
 * - a regular file larger than `excludeLargerThan` bytes is left out.
 *
 * Nothing left out this way is a warning or a skipped entry: the user asked for it.
 *
 * @module
 */

import fs from "node:fs";

/** The tag file of the Cache Directory Tagging Specification. */
export const CACHEDIR_TAG = "CACHEDIR.TAG";
/** The bytes a `CACHEDIR.TAG` must start with. */
export const CACHEDIR_SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55";

const signature = new TextEncoder().encode(CACHEDIR_SIGNATURE);

/**
 * The name among `tags` that excludes the folder `dir`, whose entries are `names`; undefined
 * when none does. Reads at most the first 43 bytes of a `CACHEDIR.TAG`; one that cannot be read
 * does not exclude (the walk then reports it as it backs it up).
 */
export function excludingTag(
  dir: string,
  names: readonly string[],
  tags: readonly string[],
): string | undefined {
  for (const tag of tags) {
    if (!names.includes(tag)) continue;
    if (tag !== CACHEDIR_TAG || isCacheDirTag(dir === "/" ? `/${tag}` : `${dir}/${tag}`)) {
      return tag;
    }
  }
  return undefined;
}

/**
 * Whether `path` is a regular file (not followed if a symlink) that starts with the signature.
 * Opened without blocking and checked again once open, so that a fifo put in its place between
 * the two cannot hang the walk.
 */
export function isCacheDirTag(path: string): boolean {
  let fd: number | undefined;
  try {
    if (!fs.lstatSync(path).isFile()) return false;
    fd = fs.openSync(
      path,
      fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW,
    );
    if (!fs.fstatSync(fd).isFile()) return false;
    const head = new Uint8Array(signature.length);
    let n = 0;
    while (n < head.length) {
      const got = fs.readSync(fd, head, n, head.length - n, null);
      if (got === 0) break;
      n += got;
    }
    return n === head.length && head.every((b, i) => b === signature[i]);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Whether a regular file of `size` bytes is left out by `excludeLargerThan`. */
export function tooLarge(size: number, excludeLargerThan: number | undefined): boolean {
  return excludeLargerThan !== undefined && size > excludeLargerThan;
}
