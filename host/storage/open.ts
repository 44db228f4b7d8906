/**
 * Opening a repository's storage from a location string: picks the storage plugin by the
 * location's scheme (`schemes.ts`), starts it in its sandbox and wraps it in a role handle.
 *
 * @module
 */

import type { PluginPolicy } from "../plugin/permissions.ts";
import { startPlugin } from "../plugin/sandbox.ts";
import { OrderlyBackend } from "./orderly_close.ts";
import { RoleHandle } from "./role_handle.ts";
import { defaultScheme, storageSchemes } from "./schemes.ts";
import type { Role, Storage } from "./storage.ts";

/** Options of {@link openStorage}. */
export interface OpenOptions {
  /** Create the repository (folder or file, and missing parents) if it does not exist. */
  create?: boolean;
  /** The user's policy for the storage plugin (may only narrow its permissions). */
  policy?: PluginPolicy;
}

/**
 * Opens the storage at `location` for `role`.
 *
 * `location` is `scheme:rest`, or a plain path, which means `local:`. Each entry of
 * `storageSchemes` (`schemes.ts`) names its scheme's plugin and what that plugin's worker may
 * touch, e.g. `local:<folder>` (options `?cold=simulate&restore-delay=SECONDS`) only that
 * folder and `sqlite:<file>` only that file and SQLite's files beside it (paths resolved to
 * absolute ones). A scheme not in the table rejects with `TypeError` naming the scheme, as does
 * a malformed location.
 * Without `create`, a missing repository rejects with `Deno.errors.NotFound`. The result is a
 * {@link RoleHandle}: methods the role lacks reject with `CapabilityRefused`. Close it to stop
 * the plugin worker: closing waits for the calls in flight, so no write is cut in the middle,
 * and SIGINT or SIGTERM while it is open close it the same way before the process exits
 * (`orderly_close.ts`). Its `properties` are what the scheme declares.
 */
export async function openStorage(
  location: string,
  role: Role,
  options: OpenOptions = {},
): Promise<Storage> {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(location)?.[1];
  const rest = scheme === undefined ? location : location.slice(scheme.length + 1);
  const opener = Object.hasOwn(storageSchemes, scheme ?? defaultScheme)
    ? storageSchemes[scheme ?? defaultScheme]
    : undefined;
  if (opener === undefined) {
    throw new TypeError(`storage location scheme "${scheme}:" is not supported`);
  }
  const { properties, ...start } = await opener(rest, {
    location,
    create: options.create === true,
  });
  const plugin = new OrderlyBackend(
    await startPlugin({ kind: "storage", ...start, policy: options.policy }),
    location,
  );
  try {
    const handle = new RoleHandle(plugin, role, properties);
    if (options.create) await plugin.call("init");
    return handle;
  } catch (e) {
    await plugin.close();
    throw e;
  }
}
