/**
 * How the local store maps object names to files below its root folder, and back.
 *
 * `name` -> `<root>/<name>`, except packs, which are fanned out by the first two characters of
 * their id: `packs/<id>` -> `<root>/packs/<id[0..2]>/<id>`. Two folders are reserved and never
 * hold objects: `<root>/tmp/` (files being written) and `<root>/.cold/` (the state of the
 * simulated cold mode, `cold_simulation.ts`). A folder cannot hold both an object `a` and an
 * object `a/b`.
 *
 * @module
 */

/** The folder (relative to the root) where files are written before they are linked in place. */
export const TMP_DIR = "tmp";

/** The folder (relative to the root) holding the simulated cold mode's records. */
export const COLD_DIR = ".cold";

/** Top-level folders that never hold objects. */
const RESERVED: ReadonlySet<string> = new Set([TMP_DIR, COLD_DIR]);

const PACKS = "packs/";

/**
 * Checks an object name: `/`-separated, no empty, `.` or `..` segment, no `\` or NUL, not
 * under `tmp/` or `.cold/`, and a `packs/` name is exactly `packs/<id>` with an id of 2+
 * characters.
 * Throws `TypeError` naming the object otherwise.
 */
export function checkName(name: unknown): asserts name is string {
  if (typeof name !== "string" || !validPath(name)) {
    throw new TypeError(`object name "${name}" is not valid`);
  }
  if (RESERVED.has(name.split("/", 1)[0])) {
    throw new TypeError(`object name "${name}" is reserved by the local store`);
  }
  if (name.startsWith(PACKS)) {
    const id = name.slice(PACKS.length);
    if (id.length < 2 || id.includes("/")) {
      throw new TypeError(`pack name "${name}" must be "packs/<id>" with an id of 2+ characters`);
    }
  }
}

/** The file path, relative to the root, of a checked object name. */
export function objectPath(name: string): string {
  if (!name.startsWith(PACKS)) return name;
  const id = name.slice(PACKS.length);
  return `${PACKS}${id.slice(0, 2)}/${id}`;
}

/** The object name of a file path relative to the root, or `undefined` if it holds no object. */
export function objectName(path: string): string | undefined {
  const parts = path.split("/");
  if (RESERVED.has(parts[0])) return undefined;
  if (parts[0] + "/" === PACKS) {
    const [, fan, id] = parts;
    if (parts.length !== 3 || fan.length !== 2 || !id.startsWith(fan)) return undefined;
    return PACKS + id;
  }
  return path;
}

/**
 * The folder (relative to the root, "" for the root itself) below which every object whose
 * name starts with `prefix` lives, or `undefined` if no object can match. Throws `TypeError`
 * for a prefix that would leave the root.
 */
export function listRoot(prefix: string): string | undefined {
  const cut = prefix.lastIndexOf("/");
  const dir = prefix.slice(0, cut + 1);
  if (dir !== "" && !validPath(dir.slice(0, -1))) {
    throw new TypeError(`list prefix "${prefix}" is not valid`);
  }
  if (RESERVED.has(dir.split("/", 1)[0])) return undefined;
  if (prefix.startsWith(PACKS)) {
    const id = prefix.slice(PACKS.length);
    if (id.includes("/")) return undefined;
    return id.length >= 2 ? `${PACKS}${id.slice(0, 2)}` : "packs";
  }
  return dir.slice(0, -1);
}

/** Whether `path` (relative to the root) is a reserved top-level folder (`tmp`, `.cold`). */
export function isReserved(path: string): boolean {
  return RESERVED.has(path);
}

function validPath(path: string): boolean {
  if (path === "" || path.length > 1024 || /[\\\0]/.test(path)) return false;
  return path.split("/").every((s) => s !== "" && s !== "." && s !== "..");
}
