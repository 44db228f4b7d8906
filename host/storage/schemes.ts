/**
 * The storage location schemes: for each `scheme:` a location may start with, which storage
 * plugin serves it, with which `$vars` (its permissions) and which config. One entry per
 * scheme in {@link storageSchemes}; a location without a scheme is `local:`.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import type { PermissionVars } from "../plugin/permissions.ts";
import type { CapabilityImpl } from "../plugin/sandbox.ts";
import type { StoreProperties } from "./storage.ts";
import { openS3 } from "./s3_location.ts";

/** How to start the storage plugin for one location (the fields of `startPlugin`). */
export interface PluginStart {
  /** The storage plugin's name. */
  name: string;
  /** Values of the `$name` placeholders in its manifest's permissions. */
  vars: PermissionVars;
  /** Handed to the plugin as is. */
  config: unknown;
  /** Host capabilities offered to the plugin (e.g. `credentials` for `s3`). */
  capabilities?: Record<string, CapabilityImpl>;
  /** What the store declares about itself (the `properties` of the opened `Storage`). */
  properties: StoreProperties;
}

/**
 * Turns the rest of a location (after `scheme:`) into a plugin start. Contract: a malformed
 * location rejects with `TypeError` quoting `location`; without `create`, a repository that
 * does not exist rejects with `Deno.errors.NotFound` naming it; with `create`, it makes what the
 * sandboxed plugin cannot (parent folders), and the plugin's `init` does the rest. It never
 * starts the plugin.
 */
export type SchemeOpener = (
  rest: string,
  context: { location: string; create: boolean },
) => Promise<PluginStart>;

/**
 * `local:PATH[?cold=simulate[&restore-delay=SECONDS]]`: a folder (absolute, or relative to the
 * working directory), plugin `local`, which may read and write only that folder. A plain path
 * is the same (so `?` starts options there too). `cold=simulate` makes GLACIER and
 * DEEP_ARCHIVE objects need a restore, which takes `restore-delay` seconds (default 0).
 */
export const openLocal: SchemeOpener = async (rest, { location, create }) => {
  const [path, options] = splitOptions(rest, location, ["cold", "restore-delay"]);
  if (path === "") throw new TypeError(`storage location "${location}" names no folder`);
  const cold = options.get("cold");
  const delay = options.get("restore-delay");
  if (cold !== undefined && cold !== "simulate") {
    throw new TypeError(`storage location "${location}": "cold" can only be "simulate"`);
  }
  if (delay !== undefined && cold === undefined) {
    throw new TypeError(`storage location "${location}": "restore-delay" needs "cold=simulate"`);
  }
  const seconds = delay === undefined ? 0 : Number(delay);
  if (!/^\d+(\.\d+)?$/.test(delay ?? "0") || !Number.isFinite(seconds)) {
    throw new TypeError(`storage location "${location}": "restore-delay" must be seconds`);
  }
  const root = resolve(path);
  if (!create) {
    const info = await Deno.stat(root).catch(() => null);
    if (!info?.isDirectory) {
      throw new Deno.errors.NotFound(`repository folder "${root}" does not exist`);
    }
  }
  return {
    name: "local",
    vars: { $location: [root] },
    config: cold === undefined
      ? { location: root }
      : { location: root, cold: { restoreDelaySeconds: seconds } },
    properties: { coldStates: cold !== undefined, pieces: true },
  };
};

/**
 * `sqlite:PATH`: the whole repository in one SQLite file (absolute, or relative to the
 * working directory), plugin `sqlite`, which may read and write only that file and SQLite's
 * `-wal`, `-shm` and `-journal` files beside it. With `create`, missing parent folders are made
 * here (0700); the plugin creates the file.
 */
export const openSqlite: SchemeOpener = async (rest, { location, create }) => {
  const [path] = splitOptions(rest, location, []);
  if (path === "") throw new TypeError(`storage location "${location}" names no file`);
  const file = resolve(path);
  const info = await Deno.stat(file).catch(() => null);
  if (info !== null && !info.isFile) {
    throw new TypeError(`repository database "${file}" is not a file`);
  }
  if (info === null) {
    if (!create) throw new Deno.errors.NotFound(`repository database "${file}" does not exist`);
    await Deno.mkdir(dirname(file), { recursive: true, mode: 0o700 });
  }
  return {
    name: "sqlite",
    vars: { $database: ["", "-wal", "-shm", "-journal"].map((s) => file + s) },
    config: { location: file },
    properties: { coldStates: false },
  };
};

/** Every location scheme, by name (without the colon). */
export const storageSchemes: Readonly<Record<string, SchemeOpener>> = {
  local: openLocal,
  sqlite: openSqlite,
  s3: openS3,
};

/** The scheme of a location that has none: a plain path is a local folder. */
export const defaultScheme = "local";

/**
 * Splits `rest` at its first `?` into the path and its options (`a=1&b=2`, URL-decoded).
 * Rejects with `TypeError` quoting `location` an option not in `known`, or a repeated one.
 */
function splitOptions(
  rest: string,
  location: string,
  known: string[],
): [string, Map<string, string>] {
  const cut = rest.indexOf("?");
  if (cut < 0) return [rest, new Map()];
  const options = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(rest.slice(cut + 1))) {
    if (!known.includes(key)) {
      throw new TypeError(`storage location "${location}" has an unknown option "${key}"`);
    }
    if (options.has(key)) {
      throw new TypeError(`storage location "${location}" gives option "${key}" twice`);
    }
    options.set(key, value);
  }
  return [rest.slice(0, cut), options];
}
