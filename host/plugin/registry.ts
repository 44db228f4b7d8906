/**
 * The one list of built-in plugins (STYLE habit 4). A built-in is a folder under `plugins/`
 * shipped with the host; its manifest is still read and validated like any other.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { withSuggestion } from "../text/did_you_mean.ts";
import { type LockEntry, pluginFolder, pluginsFolder, readLock } from "./plugin_lock.ts";

/** A registered built-in plugin. */
export interface BuiltinPlugin {
  kind: string;
  name: string;
  /** Absolute path of the plugin folder. */
  dir: string;
}

const builtins = new Map<string, BuiltinPlugin>();

/**
 * Adds a built-in. Throws `TypeError` if `kind`/`name` is already registered, so two folders
 * can never answer to one name.
 */
export function registerBuiltin(kind: string, name: string, folder: URL): void {
  const key = `${kind}/${name}`;
  if (builtins.has(key)) throw new TypeError(`built-in plugin "${key}" is registered twice`);
  const dir = fileURLToPath(folder).replace(/\/$/, "");
  builtins.set(key, { kind, name, dir });
}

registerBuiltin("engine", "dedup", new URL("../../plugins/engine/dedup/", import.meta.url));
registerBuiltin("engine", "worm", new URL("../../plugins/engine/worm/", import.meta.url));
registerBuiltin("engine", "sync", new URL("../../plugins/engine/sync/", import.meta.url));
registerBuiltin("engine", "vm-delta", new URL("../../plugins/engine/vm-delta/", import.meta.url));
registerBuiltin("storage", "local", new URL("../../plugins/storage/local/", import.meta.url));
registerBuiltin("storage", "sqlite", new URL("../../plugins/storage/sqlite/", import.meta.url));
registerBuiltin("storage", "s3", new URL("../../plugins/storage/s3/", import.meta.url));
registerBuiltin("filter", "exclude", new URL("../../plugins/filter/exclude/", import.meta.url));
registerBuiltin("filter", "gitignore", new URL("../../plugins/filter/gitignore/", import.meta.url));

/**
 * The folder of built-in plugin `kind`/`name`; a `TypeError` naming the installed plugins of
 * that kind (and the one `name` is a likely misspelling of) if there is none.
 */
export function builtinPlugin(kind: string, name: string): string {
  const found = builtins.get(`${kind}/${name}`);
  if (!found) throw new TypeError(notInstalled(kind, name));
  return found.dir;
}

/** The names of the built-ins of `kind`, in registration order. */
export function builtinNames(kind: string): string[] {
  return [...builtins.values()].filter((b) => b.kind === kind).map((b) => b.name);
}

/** An installed (third-party) plugin: its folder and what its lock entry pins. */
export interface InstalledPlugin {
  dir: string;
  entry: LockEntry;
}

let installedAt: { folder: string | undefined } | undefined;

/**
 * Where installed plugins are looked up: `folder`, or (`undefined`) the folder the process's
 * environment names (`pluginsFolder`, host/plugin/plugin_lock.ts), which is the default.
 */
export function useInstalledFolder(folder: string | undefined): void {
  installedAt = folder === undefined ? undefined : { folder };
}

/** The folder installed plugins are looked up in, if there is one. */
export function installedFolder(): string | undefined {
  return installedAt ? installedAt.folder : pluginsFolder(Deno.env.toObject());
}

/** Installed plugin `kind`/`name`, if the lock has it (read afresh: another process may add). */
export function installedPlugin(kind: string, name: string): InstalledPlugin | undefined {
  const folder = installedFolder();
  if (folder === undefined) return undefined;
  const entry = readLock(folder).plugins[`${kind}/${name}`];
  return entry ? { dir: pluginFolder(folder, kind, name), entry } : undefined;
}

/** The names of the plugins of `kind` one can start: the built-ins, then the installed. */
export function pluginNames(kind: string): string[] {
  const folder = installedFolder();
  const installed = folder === undefined ? [] : Object.values(readLock(folder).plugins)
    .filter((e) => e.kind === kind).map((e) => e.name).sort();
  return [...new Set([...builtinNames(kind), ...installed])];
}

/** Throws the `TypeError` of {@link notInstalled} unless `kind`/`name` is built in or installed. */
export function requirePlugin(kind: string, name: string): void {
  if (!pluginNames(kind).includes(name)) throw new TypeError(notInstalled(kind, name));
}

/**
 * Why `kind`/`name` cannot be started, for the user: `engine "wrom" is not installed (engines:
 * "dedup", "worm"); did you mean "worm"?`.
 */
export function notInstalled(kind: string, name: string): string {
  const names = pluginNames(kind);
  const list = names.length === 0 ? "none" : names.map((n) => `"${n}"`).join(", ");
  return withSuggestion(`${kind} "${name}" is not installed (${kind}s: ${list})`, name, names);
}

/** Every built-in, in registration order. */
export function builtinPlugins(): BuiltinPlugin[] {
  return [...builtins.values()];
}
