/**
 * Unmounting from outside the mount's process: `permafrost umount`, and a mount whose process
 * was killed (its folder then answers "Transport endpoint is not connected" until unmounted).
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";

/** The type a mount shows in the mount table (`fsname`/`subtype` of `fuse_lowlevel.ts`). */
export const MOUNT_TYPE = "fuse.permafrost";

/**
 * The absolute path of `dir` with symlinks resolved, as the mount table names it. A killed
 * mount's folder cannot be resolved (ENOTCONN): then its parent is, and a symlink to it is
 * followed once by hand.
 */
export async function mountPath(dir: string): Promise<string> {
  try {
    return await Deno.realPath(dir);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotConnected)) throw err;
  }
  const typed = resolve(dir);
  const parent = await Deno.realPath(dirname(typed)).catch(() => dirname(typed));
  const info = await Deno.lstat(typed).catch(() => undefined);
  if (!info?.isSymlink) return join(parent, basename(typed));
  const target = resolve(parent, await Deno.readLink(typed));
  const targetParent = await Deno.realPath(dirname(target)).catch(() => dirname(target));
  return join(targetParent, basename(target));
}

/** The type of the mount at `path` (absolute, resolved), from `/proc/self/mountinfo`. */
export async function mountTypeAt(path: string): Promise<string | undefined> {
  const table = await Deno.readTextFile("/proc/self/mountinfo");
  let type: string | undefined;
  for (const line of table.split("\n")) {
    const [left, right] = line.split(" - ");
    if (right === undefined) continue;
    if (unescape(left.split(" ")[4]) === path) type = right.split(" ")[0]; // the last one shows
  }
  return type;
}

/** Whether `dir` (symlinks followed) is a mount point of type `fuse.permafrost`. */
export async function isPermafrostMount(dir: string): Promise<boolean> {
  return await mountTypeAt(await mountPath(dir)) === MOUNT_TYPE;
}

/**
 * Unmounts `dir` with `fusermount3 -u` (as the mount's own user may; root may too), which
 * refuses while a process has a file open or its working folder there: the error says so.
 */
export async function unmountFolder(dir: string): Promise<void> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("fusermount3", {
      args: ["-u", await mountPath(dir)],
      stdout: "null",
      stderr: "piped",
    }).output();
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    throw new Deno.errors.NotFound(
      "`fusermount3` is not installed: install FUSE 3 (Debian and Ubuntu: `apt-get install " +
        "fuse3`), or as root run `umount` on the folder",
    );
  }
  if (out.success) return;
  const why = new TextDecoder().decode(out.stderr).trim().replace(/^fusermount3: /, "");
  if (/busy/i.test(why)) {
    throw new Deno.errors.Busy(
      `"${dir}" is in use (a process has a file open or its working folder there): close ` +
        `them (\`fuser -vm ${dir}\` lists them), then run \`permafrost umount\` again`,
    );
  }
  throw new Error(`cannot unmount "${dir}": ${why}`);
}

/** Undoes the octal escapes of a mount table path (`\040` for a space). */
function unescape(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}
