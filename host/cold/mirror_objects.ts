/**
 * Mirrored files' objects (the `sync` engine, docs/engines.md) among the packs of a restore: an
 * object in an archive class is thawed like a pack. A survey names it by its key, or, for one
 * version of a key on a versioned bucket, by `<key>\0<version>` (a key never holds NUL), so
 * surveys, restore requests and jobs carry the version with the name.
 *
 * @module
 */

import type { MirrorRef } from "../repository/tree.ts";

/** The survey name of the object `ref` names. */
export function surveyName(ref: MirrorRef): string {
  return ref.version === undefined ? ref.key : `${ref.key}\0${ref.version}`;
}

/** The object name and version (if any) of a survey name. */
export function objectOf(name: string): { name: string; version?: string } {
  const cut = name.indexOf("\0");
  return cut < 0 ? { name } : { name: name.slice(0, cut), version: name.slice(cut + 1) };
}
