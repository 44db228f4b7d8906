/**
 * A backup's source paths, as the snapshot records them: absolute, each existing, with
 * different base names (each is a top-level entry of the snapshot, named by its base name).
 *
 * @module
 */

import { resolve } from "node:path";

/** Absolute source paths; each must exist, and their base names must differ. */
export function checkSources(paths: string[]): string[] {
  if (paths.length === 0) throw new TypeError("nothing to back up: give at least one path");
  // "link/" names the directory a symlink points to (as in `ls link/`), "link" the symlink.
  const out = paths.map((p) =>
    p.length > 1 && p.endsWith("/") ? realpathOrSelf(resolve(p)) : resolve(p)
  );
  const names = new Map<string, string>();
  for (const p of out) {
    try {
      Deno.lstatSync(p);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new Deno.errors.NotFound(`source "${p}" does not exist`);
      }
      throw err;
    }
    const name = p === "/" ? "root" : p.split("/").pop()!;
    const other = names.get(name);
    if (other !== undefined) {
      throw new TypeError(
        `sources "${other}" and "${p}" have the same name "${name}"; back them up in separate runs`,
      );
    }
    names.set(name, p);
  }
  return out;
}

/** The resolved path, or `path` itself when it cannot be resolved (it is reported then). */
function realpathOrSelf(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path; // checkSources reports it as missing
  }
}

/** Whether two lists hold the same strings in the same order. */
export function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
