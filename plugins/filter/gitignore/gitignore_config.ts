/**
 * The config of the `gitignore` filter (docs/plugins.md §6.5): `{ roots }`, each root an
 * absolute path, or `{ path, worktree }` with what the host read above it
 * (`worktree_rules.ts`).
 *
 * @module
 */

import type { RootSpec, WorktreeRules } from "./gitignore_matcher.ts";

const USAGE = `filter "gitignore" needs config { roots: [path | { path, worktree? }, ...] }`;

/** The roots of the config, checked: absolute normalised paths, `worktree` well formed. */
export function parseConfig(config: unknown): RootSpec[] {
  const roots = (config as { roots?: unknown } | null)?.roots;
  if (!isObject(config) || !onlyKeys(config, ["roots"]) || !Array.isArray(roots)) {
    throw new TypeError(USAGE);
  }
  if (roots.length === 0) throw new TypeError(`${USAGE}: "roots" is empty`);
  return roots.map((r): RootSpec => {
    if (typeof r === "string") return { path: absolute(r, "roots") };
    if (!isObject(r) || !onlyKeys(r, ["path", "worktree"])) throw new TypeError(USAGE);
    const path = absolute(r.path, "roots[].path");
    return r.worktree === undefined ? { path } : { path, worktree: worktree(r.worktree, path) };
  });
}

function worktree(w: unknown, root: string): WorktreeRules {
  const field = `roots[].worktree of "${root}"`;
  if (!isObject(w) || !onlyKeys(w, ["top", "exclude", "gitignores"])) {
    throw new TypeError(`${field} must be { top, exclude?, gitignores? }`);
  }
  const top = absolute(w.top, `${field}.top`);
  if (!atOrAbove(top, root)) throw new TypeError(`${field}.top "${top}" is not above the root`);
  if (w.exclude !== undefined && !(w.exclude instanceof Uint8Array)) {
    throw new TypeError(`${field}.exclude must be bytes (a Uint8Array)`);
  }
  const gitignores: Record<string, Uint8Array> = {};
  if (w.gitignores !== undefined) {
    if (!isObject(w.gitignores)) throw new TypeError(`${field}.gitignores must be an object`);
    for (const [dir, content] of Object.entries(w.gitignores)) {
      absolute(dir, `${field}.gitignores`);
      if (!(content instanceof Uint8Array) || dir === root || !atOrAbove(dir, root)) {
        throw new TypeError(`${field}.gitignores["${dir}"] must be the bytes of a folder above it`);
      }
      if (!atOrAbove(top, dir)) {
        throw new TypeError(`${field}.gitignores["${dir}"] lies above the work tree's top`);
      }
      gitignores[dir] = content;
    }
  }
  return { top, ...(w.exclude ? { exclude: w.exclude as Uint8Array } : {}), gitignores };
}

/** `value` if it is an absolute path without a trailing `/` or empty, `.`, `..` segments. */
function absolute(value: unknown, field: string): string {
  const ok = typeof value === "string" && value.startsWith("/") &&
    (value === "/" || value.slice(1).split("/").every((s) => s !== "" && s !== "." && s !== ".."));
  if (!ok) throw new TypeError(`${field} "${value}" is not an absolute, normalised path`);
  return value as string;
}

function atOrAbove(dir: string, path: string): boolean {
  return dir === path || dir === "/" || path.startsWith(`${dir}/`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function onlyKeys(o: Record<string, unknown>, keys: string[]): boolean {
  return Object.keys(o).every((k) => keys.includes(k));
}
