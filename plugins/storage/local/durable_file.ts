/**
 * Durable file steps the local store builds on: fsync a folder, and write a small file that
 * readers see whole or not at all, surviving a crash once the call resolves.
 *
 * @module
 */

import { openTemp } from "../../sdk/temp_file.ts";

// The lock-marked temporary files live in the SDK, which the host's pack spool uses too.
export { openTemp, removeTemp, tempInUse } from "../../sdk/temp_file.ts";

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

/** The folder holding absolute path `path` (`/` for a top-level entry). */
export function parentOf(path: string): string {
  const cut = path.lastIndexOf("/");
  return cut <= 0 ? "/" : path.slice(0, cut);
}
