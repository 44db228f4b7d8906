/**
 * Where installed plugins live and the lock file that pins them (docs/plugins.md §7.5). The
 * folder is `$PERMAFROST_PLUGINS_DIR`, else `$XDG_CONFIG_HOME/permafrost/plugins`, else
 * `~/.config/permafrost/plugins`; it holds `plugins.lock.json` and one folder per plugin,
 * `<kind>-<name>/`, with `plugin.json` (the manifest as installed, its `entry` the bundle) and
 * `bundle.js`. The lock pins each bundle and manifest by SHA-256 and records what the user
 * confirmed: the host starts an installed plugin from these bytes and with these grants only.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { isAbsolute, join } from "node:path";
import type { PermissionName, PermissionValue } from "../../plugins/sdk/manifest.ts";
import type { Env } from "../config/config_location.ts";

/** Version of the lock file's shape. */
export const LOCK_VERSION = 1;

/** One installed plugin, as confirmed. */
export interface LockEntry {
  kind: string;
  name: string;
  /** SHA-256 (hex) of `bundle.js`. */
  bundleSha256: string;
  /** SHA-256 (hex) of the installed `plugin.json`. */
  manifestSha256: string;
  /** The permissions the user confirmed (placeholders kept), the only ones it is given. */
  grants: Partial<Record<PermissionName, PermissionValue>>;
  /** The capabilities the user confirmed. */
  capabilities: string[];
  /** Where it was installed from, as the user gave it. */
  source: string;
  /** When, ISO 8601. */
  installedAt: string;
}

/** The lock file: installed plugins by `kind/name`. */
export interface PluginLock {
  v: typeof LOCK_VERSION;
  plugins: Record<string, LockEntry>;
}

/** The folder of installed plugins for `env` (see the module doc), or undefined without HOME. */
export function pluginsFolder(env: Env): string | undefined {
  const set = (n: string) => env[n] === undefined || env[n] === "" ? undefined : env[n];
  const named = set("PERMAFROST_PLUGINS_DIR");
  if (named !== undefined) return named;
  const xdg = set("XDG_CONFIG_HOME");
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, "permafrost", "plugins");
  const home = set("HOME");
  return home === undefined ? undefined : join(home, ".config", "permafrost", "plugins");
}

/** The folder of installed plugin `kind`/`name` inside `folder`. */
export function pluginFolder(folder: string, kind: string, name: string): string {
  return join(folder, `${kind}-${name}`);
}

/** SHA-256 of `bytes`, hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * The lock file in `folder`; an empty lock when there is none. A lock that cannot be read as
 * one is a `TypeError` naming the file (it is not rewritten over).
 */
export function readLock(folder: string): PluginLock {
  const file = join(folder, "plugins.lock.json");
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { v: LOCK_VERSION, plugins: {} };
    throw e;
  }
  let lock: PluginLock;
  try {
    lock = JSON.parse(text);
  } catch {
    throw new TypeError(`plugin lock "${file}" is not JSON; remove it and add the plugins again`);
  }
  if (lock?.v !== LOCK_VERSION || typeof lock.plugins !== "object" || lock.plugins === null) {
    throw new TypeError(
      `plugin lock "${file}" is not a version ${LOCK_VERSION} lock; remove it and add the ` +
        "plugins again",
    );
  }
  return lock;
}

/**
 * Runs `change` holding an exclusive lock on `folder`'s lock file (a `flock` on
 * `plugins.lock.json.lock`, released when the process dies), so two `plugin add`/`remove`
 * at once cannot lose each other's entry.
 */
export async function withLock<T>(folder: string, change: () => Promise<T>): Promise<T> {
  await Deno.mkdir(folder, { recursive: true });
  const file = await Deno.open(join(folder, "plugins.lock.json.lock"), {
    create: true,
    write: true,
  });
  try {
    await file.lock(true);
    return await change();
  } finally {
    file.close();
  }
}

/** Writes `lock` into `folder` atomically (a temporary file renamed over the old one). */
export async function writeLock(folder: string, lock: PluginLock): Promise<void> {
  await Deno.mkdir(folder, { recursive: true });
  const file = join(folder, "plugins.lock.json");
  const tmp = `${file}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(lock, null, 2) + "\n");
  await Deno.rename(tmp, file);
}
