/**
 * The local copy of the key object that last opened a repository with a passphrase
 * (docs/format.md §10a): `<cache dir>/key-copies/<SHA-256 hex of the location>`, the key
 * object's bytes as stored. Its salt and KDF costs let the passphrase's key derivation start
 * before the storage plugin has answered. It is a hint, never trusted over the store: the
 * derived key is used only for the key object the store lists under the copy's name, whose
 * bytes must equal the copy's (`Repository.open`). Not secret: the key material in it is sealed
 * by the passphrase, as in the repository.
 *
 * @module
 */

import fs from "node:fs";
import { join, resolve } from "node:path";
import { sha256Hex } from "../crypto/hash.ts";

/** A copy larger than this is no copy: a key object is under 1 KiB. */
const MAX_COPY_BYTES = 64 * 1024;

/**
 * Where the copy for repository `location` lives. A folder or file location (no scheme,
 * `local:`, `sqlite:`) is named by its absolute path, as `openStorage` resolves it: the same
 * relative path from two working folders is two repositories.
 */
function copyPath(cacheDir: string, location: string): string {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(location)?.[1];
  let named = location;
  if (scheme === undefined || scheme === "local" || scheme === "sqlite") {
    const rest = scheme === undefined ? location : location.slice(scheme.length + 1);
    const q = rest.indexOf("?");
    const path = q < 0 ? rest : rest.slice(0, q);
    const options = q < 0 ? "" : rest.slice(q);
    if (path !== "") named = `${scheme ?? "local"}:${resolve(path)}${options}`;
  }
  return join(cacheDir, "key-copies", sha256Hex(new TextEncoder().encode(named)));
}

/**
 * The copy's bytes for `location`, or `undefined` when there is none or it cannot be read. Only
 * a regular file of at most 64 KiB is a copy: a symlink, FIFO or device in its place (or a
 * huge file) is ignored without being followed or waited on, and replaced after the open.
 */
export function readKeyCopy(cacheDir: string, location: string): Uint8Array | undefined {
  const { O_RDONLY, O_NONBLOCK, O_NOFOLLOW } = fs.constants;
  let fd: number | undefined;
  try {
    fd = fs.openSync(
      copyPath(cacheDir, location),
      O_RDONLY | (O_NONBLOCK ?? 0) | (O_NOFOLLOW ?? 0),
    );
    const info = fs.fstatSync(fd);
    if (!info.isFile() || info.size > MAX_COPY_BYTES) return undefined;
    const bytes = new Uint8Array(info.size);
    let got = 0;
    while (got < bytes.length) {
      const n = fs.readSync(fd, bytes, got, bytes.length - got, got);
      if (n === 0) return undefined; // shrank while read: a copy being replaced
      got += n;
    }
    return bytes;
  } catch {
    return undefined; // no copy (or an unreadable one): the open derives after the store answers
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Replaces the copy for `location` with `bytes` (a temporary file renamed over it, so a reader
 * sees the old copy or the new one). Best effort: a cache that cannot be written only costs the
 * next open its head start.
 */
export function writeKeyCopy(cacheDir: string, location: string, bytes: Uint8Array): void {
  const path = copyPath(cacheDir, location);
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    Deno.mkdirSync(join(cacheDir, "key-copies"), { recursive: true, mode: 0o700 });
    Deno.writeFileSync(temp, bytes, { mode: 0o600 });
    Deno.renameSync(temp, path);
  } catch {
    try {
      Deno.removeSync(temp);
    } catch {
      // never written
    }
  }
}
