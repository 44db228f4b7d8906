/**
 * Reading and strictly validating a plugin's `plugin.json` before any of its code is loaded
 * (docs/plugins.md §2).
 *
 * @module
 */

import { isAbsolute, join, normalize, relative, resolve, sep } from "node:path";
import {
  type Manifest,
  type ManifestPermissions,
  permissionNames,
  pluginKinds,
} from "../../plugins/sdk/manifest.ts";
import { API_VERSION } from "../../plugins/sdk/protocol.ts";

export type { Manifest } from "../../plugins/sdk/manifest.ts";

/** A manifest is missing, unreadable or invalid. `file` is its path, `field` the faulty field. */
export class ManifestError extends Error {
  override name = "ManifestError";
  constructor(readonly file: string, readonly field: string, problem: string) {
    super(`plugin manifest "${file}": field "${field}" ${problem}`);
  }
}

const topFields = [
  "name",
  "kind",
  "api",
  "entry",
  "description",
  "permissions",
  "capabilities",
  "methods",
];
const NAME = /^[a-z][a-z0-9-]{0,63}$/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const VARIABLE = /^\$[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Reads `<dir>/plugin.json` and validates it with {@link validateManifest}, then checks that
 * the entry module exists and (symlinks resolved) lies inside `dir`. Throws `ManifestError`.
 */
export async function readManifest(dir: string): Promise<Manifest> {
  const file = join(resolve(dir), "plugin.json");
  let raw: unknown;
  try {
    raw = JSON.parse(await Deno.readTextFile(file));
  } catch (e) {
    throw new ManifestError(file, "(file)", `cannot be read: ${(e as Error).message}`);
  }
  const manifest = validateManifest(raw, file);
  let realDir: string, realEntry: string;
  try {
    realDir = await Deno.realPath(dir);
    realEntry = await Deno.realPath(join(dir, manifest.entry));
  } catch {
    throw new ManifestError(file, "entry", `names "${manifest.entry}", which does not exist`);
  }
  if (!inside(realDir, realEntry)) {
    throw new ManifestError(file, "entry", `names "${manifest.entry}", outside the plugin folder`);
  }
  return manifest;
}

/**
 * Validates a parsed manifest. Every field is required except `description` (default "")
 * and `permissions` fields (missing = `false`); unknown fields anywhere are errors, so a
 * typo can never grant or drop a permission silently. `file` only labels errors.
 */
export function validateManifest(raw: unknown, file: string): Manifest {
  const fail = (field: string, problem: string): never => {
    throw new ManifestError(file, field, problem);
  };
  if (!isRecord(raw)) fail("(root)", "must be a JSON object");
  const m = raw as Record<string, unknown>;
  for (const k of Object.keys(m)) if (!topFields.includes(k)) fail(k, "is not a manifest field");

  if (typeof m.name !== "string" || !NAME.test(m.name)) {
    fail("name", "must be lowercase letters, digits and '-', starting with a letter");
  }
  if (!(pluginKinds as readonly unknown[]).includes(m.kind)) {
    fail("kind", `must be one of ${pluginKinds.map((k) => `"${k}"`).join(", ")}`);
  }
  if (m.api !== API_VERSION) fail("api", `must be ${API_VERSION}`);
  const entry = m.entry;
  if (typeof entry !== "string" || !/\.(ts|js|mjs)$/.test(entry)) {
    fail("entry", "must be a .ts, .js or .mjs file name");
  }
  const e = entry as string;
  if (isAbsolute(e) || e.includes("\\") || normalize(e).split(/[/\\]/).includes("..")) {
    fail("entry", `names "${e}", outside the plugin folder`);
  }
  if (m.description !== undefined && typeof m.description !== "string") {
    fail("description", "must be a string");
  }
  const capabilities = identifiers(m.capabilities, "capabilities", fail);
  const methods = identifiers(m.methods, "methods", fail);
  const permissions = validatePermissions(m.permissions, fail);
  return {
    name: m.name as string,
    kind: m.kind as Manifest["kind"],
    api: API_VERSION,
    entry: e,
    description: (m.description as string | undefined) ?? "",
    permissions,
    capabilities,
    methods,
  };
}

function validatePermissions(
  raw: unknown,
  fail: (field: string, problem: string) => never,
): ManifestPermissions {
  if (!isRecord(raw)) return fail("permissions", "must be an object");
  const out: ManifestPermissions = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const field = `permissions.${k}`;
    if (!(permissionNames as readonly string[]).includes(k)) fail(field, "is not a permission");
    const name = k as keyof ManifestPermissions;
    if (typeof v === "boolean") {
      out[name] = v;
      continue;
    }
    if (!Array.isArray(v)) fail(field, "must be true, false or a list of strings");
    const list = v as unknown[];
    for (const [i, entry] of list.entries()) {
      if (typeof entry !== "string" || entry === "") fail(`${field}[${i}]`, "must be a string");
      const s = entry as string;
      if (s.startsWith("$") && !VARIABLE.test(s)) fail(`${field}[${i}]`, `"${s}" is no variable`);
      if ((name === "read" || name === "write") && !s.startsWith("$") && !isAbsolute(s)) {
        fail(`${field}[${i}]`, `"${s}" must be an absolute path or a $variable`);
      }
    }
    out[name] = [...list] as string[];
  }
  return out;
}

function identifiers(
  raw: unknown,
  field: string,
  fail: (field: string, problem: string) => never,
): string[] {
  if (!Array.isArray(raw)) return fail(field, "must be a list of names");
  const seen = new Set<string>();
  for (const [i, v] of raw.entries()) {
    if (typeof v !== "string" || !IDENT.test(v) || v === "__proto__") {
      fail(`${field}[${i}]`, "must be an identifier");
    }
    if (seen.has(v)) fail(`${field}[${i}]`, `repeats "${v}"`);
    seen.add(v);
  }
  return [...seen];
}

function isRecord(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== "" && !rel.startsWith(".." + sep) && rel !== ".." && !isAbsolute(rel);
}
