/**
 * Temporary files marked as a write under way: `openTemp` creates one holding an exclusive
 * advisory lock (`flock`) for as long as it is open, so a sweep (`removeTemp`, `tempInUse`) in
 * this or another process tells what a live write uses from what a killed one left. The local
 * store's `tmp/` (plugins/storage/local) and a backup's pack spool
 * (host/repository/pack_buffer.ts) both build on it.
 *
 * @module
 */

/**
 * Creates `<tmpDir>/<random>` (mode 0600) and opens it for writing, holding an exclusive
 * advisory lock (`flock`) on it until the file is closed: the mark of a write under way, which
 * `removeTemp` never removes and `tempInUse` tells apart from what a killed write left (its
 * lock went with its process). Close it only once its name is gone (renamed, or linked and
 * removed). Where the file system has no such locks, and on Windows (where they are mandatory
 * and would stop the reads of the file), the file is not locked. With `read`, the file is open
 * for reading too (what was written can be read back through it even once its name is gone).
 */
export async function openTemp(
  tmpDir: string,
  options: { read?: boolean } = {},
): Promise<{ path: string; file: Deno.FsFile }> {
  const read = options.read === true;
  for (;;) {
    const path = `${tmpDir}/${randomHex()}`;
    const file = await Deno.open(path, { read, write: true, createNew: true, mode: 0o600 });
    try {
      if (await lockedInPlace(file, path)) return { path, file };
    } catch (e) {
      file.close();
      await Deno.remove(path).catch(() => {});
      throw e;
    }
    // Removed between its creation and the lock, by a remover that saw it unlocked: retry.
    file.close();
  }
}

/** Locks `file`, then whether `path` still names it (not removed before the lock was had). */
async function lockedInPlace(file: Deno.FsFile, path: string): Promise<boolean> {
  if (Deno.build.os === "windows") return true;
  try {
    await file.lock(true);
  } catch {
    return true; // no advisory locks here: the file stays unmarked (only the grace period helps)
  }
  const held = await file.stat();
  const named = await Deno.stat(path).catch((e) => {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  });
  return named !== null && named.ino === held.ino && named.dev === held.dev;
}

/**
 * Whether the file at `path` is a write under way: a process holds the lock `openTemp` takes.
 * False when it cannot tell (gone, unreadable, Windows, no locks here).
 */
export async function tempInUse(path: string): Promise<boolean> {
  const file = await openToLock(path);
  if (!file) return false;
  try {
    return !(await file.tryLock(true).catch(() => true));
  } finally {
    file.close();
  }
}

/**
 * Removes the file at `path` unless it is a write under way (`tempInUse`), holding its lock
 * meanwhile so that no writer takes it in between. Resolves `false` when the file was left, and
 * `true` when it is gone (also when it was gone already).
 */
export async function removeTemp(path: string): Promise<boolean> {
  const file = await openToLock(path);
  if (file === null) return true;
  try {
    if (file !== undefined && !(await file.tryLock(true).catch(() => true))) return false;
    await Deno.remove(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return true;
    throw e;
  } finally {
    file?.close();
  }
}

/**
 * `path` opened for reading, to try its lock; `null` when it is gone; `undefined` when it cannot
 * be told (Windows, or a file this process may not open): then it is treated as unlocked.
 */
async function openToLock(path: string): Promise<Deno.FsFile | null | undefined> {
  if (Deno.build.os === "windows") return undefined;
  try {
    return await Deno.open(path, { read: true });
  } catch (e) {
    return e instanceof Deno.errors.NotFound ? null : undefined;
  }
}

/** 32 random hex digits, for temporary file names. */
export function randomHex(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
