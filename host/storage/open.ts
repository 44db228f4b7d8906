/**
 * Opening a repository's storage from a location string: picks the storage plugin, starts it
 * in its sandbox and wraps it in a role handle.
 *
 * @module
 */

import { resolve } from "node:path";
import type { PluginPolicy } from "../plugin/permissions.ts";
import { startPlugin } from "../plugin/sandbox.ts";
import { RoleHandle } from "./role_handle.ts";
import type { Role, Storage } from "./storage.ts";

/** Options of {@link openStorage}. */
export interface OpenOptions {
  /** Create the repository folder (and missing parents) if it does not exist. */
  create?: boolean;
  /** The user's policy for the storage plugin (may only narrow its permissions). */
  policy?: PluginPolicy;
}

/**
 * Opens the storage at `location` for `role`.
 *
 * `location` is a folder path (absolute or relative to the working directory) or
 * `local:<path>`; both use the `local` storage plugin, whose worker may read and write only
 * that folder (resolved to an absolute path). Other schemes reject with `TypeError` naming
 * the scheme. Without `create`, a missing folder rejects with `Deno.errors.NotFound`.
 * The result is a {@link RoleHandle}: methods the role lacks reject with `CapabilityRefused`.
 * Close it to stop the plugin worker.
 */
export async function openStorage(
  location: string,
  role: Role,
  options: OpenOptions = {},
): Promise<Storage> {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(location)?.[1];
  let path = location;
  if (scheme !== undefined) {
    if (scheme !== "local") {
      throw new TypeError(`storage location scheme "${scheme}:" is not supported`);
    }
    path = location.slice("local:".length);
  }
  if (path === "") throw new TypeError(`storage location "${location}" names no folder`);
  const root = resolve(path);
  if (!options.create) {
    const info = await Deno.stat(root).catch(() => null);
    if (!info?.isDirectory) {
      throw new Deno.errors.NotFound(`repository folder "${root}" does not exist`);
    }
  }
  const plugin = await startPlugin({
    kind: "storage",
    name: "local",
    vars: { $location: [root] },
    config: { location: root },
    policy: options.policy,
  });
  try {
    const handle = new RoleHandle(plugin, role);
    if (options.create) await plugin.call("init");
    return handle;
  } catch (e) {
    await plugin.close();
    throw e;
  }
}
