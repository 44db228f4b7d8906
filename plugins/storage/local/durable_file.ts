/**
 * Durable file steps the local store builds on: fsync a folder, and write a small file that
 * readers see whole or not at all, surviving a crash once the call resolves.
 *
 * @module
 */

/**
 * Fsyncs folder `dir`, so entries just linked, renamed or removed in it survive a crash.
 * Skipped on Windows, which cannot open folders.
 */
export async function syncDir(dir: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}

/**
 * Writes `data` to `path`, replacing any file there: writes `<tmpDir>/<random>` (mode 0600,
 * `openTemp`), fsyncs it, renames it over `path` and fsyncs `path`'s folder. Readers see the
 * old file or the new one, never a mix. `tmpDir` must be on the same file system as `path`.
 */
export async function replaceFile(tmpDir: string, path: string, data: Uint8Array): Promise<void> {
  const { path: tmp, file } = await openTemp(tmpDir);
  try {
    for (let done = 0; done < data.byteLength;) done += await file.write(data.subarray(done));
    await file.sync();
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  } finally {
    file.close();
  }
  await syncDir(parentOf(path));
}

/**
 * Creates `<tmpDir>/<random>` (mode 0600) and opens it for writing, holding an exclusive
 * advisory lock (`flock`) on it until the file is closed: the mark of a write under way, which
 * `removeTemp` never removes and `tempInUse` tells apart from what a killed write left (its
 * lock went with its process). Close it only once its name is gone (renamed, or linked and
 * removed). Where the file system has no such locks, and on Windows (where they are mandatory
 * and would stop the reads of the file), the file is not locked.
 */
export async function openTemp(tmpDir: string): Promise<{ path: string; file: Deno.FsFile }> {
  for (;;) {
    const path = `${tmpDir}/${randomHex()}`;
    const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
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

/** The folder holding absolute path `path` (`/` for a top-level entry). */
export function parentOf(path: string): string {
  const cut = path.lastIndexOf("/");
  return cut <= 0 ? "/" : path.slice(0, cut);
}

/** 32 random hex digits, for temporary file names. */
export function randomHex(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
