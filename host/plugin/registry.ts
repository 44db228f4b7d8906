/**
 * The one list of built-in plugins (STYLE habit 4). A built-in is a folder under `plugins/`
 * shipped with the host; its manifest is still read and validated like any other.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { withSuggestion } from "../text/did_you_mean.ts";

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

/**
 * Why `kind`/`name` cannot be started, for the user: `engine "wrom" is not installed (engines:
 * "dedup", "worm"); did you mean "worm"?`.
 */
export function notInstalled(kind: string, name: string): string {
  const names = builtinNames(kind);
  const list = names.length === 0 ? "none" : names.map((n) => `"${n}"`).join(", ");
  return withSuggestion(`${kind} "${name}" is not installed (${kind}s: ${list})`, name, names);
}

/** Every built-in, in registration order. */
export function builtinPlugins(): BuiltinPlugin[] {
  return [...builtins.values()];
}
