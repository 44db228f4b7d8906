/**
 * Extended attributes, which Deno has no API for: `llistxattr`, `lgetxattr` and `lsetxattr`
 * from the C library through FFI, on Linux only (elsewhere `xattrsSupported()` is false and
 * nothing is read or set). Host code only: an engine plugin never gets FFI (it would leave its
 * sandbox); the host reads the attributes of the entries an engine reports (host/ops/backup.ts)
 * and a restore sets them (host/ops/restore_fs.ts). Never follows a symlink. Synchronous calls.
 *
 * @module
 */

/** The errno values acted on (Linux). */
const ENODATA = 61;
const ERANGE = 34;
const ENOTSUP = 95;

/** Linux's limits: XATTR_NAME_MAX and XATTR_SIZE_MAX (docs/format.md §8 uses the same). */
export const XATTR_NAME_MAX = 255;
export const XATTR_SIZE_MAX = 65536;

const SYMBOLS = {
  llistxattr: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
  lgetxattr: { parameters: ["buffer", "buffer", "buffer", "usize"], result: "isize" },
  lsetxattr: { parameters: ["buffer", "buffer", "buffer", "usize", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let libc: Libc | null | undefined;

/** The C library's calls, loaded once; null where they cannot be (not Linux, no FFI). */
function load(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  if (Deno.build.os !== "linux") return libc;
  try {
    libc = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  } catch {
    // No --allow-ffi, or a C library by another name (musl): extended attributes unavailable.
  }
  return libc;
}

/** Whether this process can read and set extended attributes. */
export function xattrsSupported(): boolean {
  return load() !== null;
}

/** A failed call: the path, the attribute (when one), the errno and its text. */
export class XattrError extends Error {
  constructor(readonly path: string, readonly errno: number, what: string, attr?: string) {
    super(
      `"${path}": cannot ${what}${attr === undefined ? "" : ` "${attr}"`}: ` +
        `${errnoText(errno)} (errno ${errno})`,
    );
    this.name = "XattrError";
  }
}

const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The extended attributes of `path` (not followed if a symlink), as [name, value] pairs in the
 * order listed. A file system without them gives []. Names that are not valid UTF-8 cannot be
 * recorded; they are returned in `unnamed` as bytes shown with escapes. Throws `XattrError`.
 */
export function readXattrs(path: string): { attrs: [string, Uint8Array][]; unnamed: string[] } {
  const c = load();
  const none = { attrs: [], unnamed: [] };
  if (c === null) return none;
  const p = cString(path);
  const names = listNames(c, p, path);
  if (names === null) return none;
  const attrs: [string, Uint8Array][] = [];
  const unnamed: string[] = [];
  for (const raw of names) {
    let name: string;
    try {
      name = strictUtf8.decode(raw);
    } catch {
      unnamed.push(JSON.stringify(new TextDecoder().decode(raw)));
      continue;
    }
    const value = getValue(c, p, raw, path, name);
    if (value !== null) attrs.push([name, value]);
  }
  return { attrs, unnamed };
}

/** Sets one extended attribute of `path` (not followed if a symlink). Throws `XattrError`. */
export function writeXattr(path: string, name: string, value: Uint8Array): void {
  const c = load();
  if (c === null) throw new XattrError(path, ENOTSUP, "set extended attribute", name);
  if (c.lsetxattr(cString(path), cString(name), value, BigInt(value.length), 0) !== 0) {
    throw new XattrError(path, errno(c), "set extended attribute", name);
  }
}

/** The raw names (NUL-separated in the kernel's answer); null when the file system has none. */
function listNames(c: Libc, p: Uint8Array, path: string): Uint8Array[] | null {
  for (;;) {
    const size = Number(c.llistxattr(p, null, 0n));
    if (size < 0) {
      const e = errno(c);
      if (e === ENOTSUP) return null;
      throw new XattrError(path, e, "list extended attributes");
    }
    if (size === 0) return [];
    const buf = new Uint8Array(size);
    const got = Number(c.llistxattr(p, buf, BigInt(size)));
    if (got < 0) {
      const e = errno(c);
      if (e === ERANGE) continue; // an attribute was added between the two calls
      throw new XattrError(path, e, "list extended attributes");
    }
    const names: Uint8Array[] = [];
    let start = 0;
    for (let i = 0; i < got; i++) {
      if (buf[i] !== 0) continue;
      if (i > start) names.push(buf.slice(start, i));
      start = i + 1;
    }
    return names;
  }
}

/** One attribute's value; null when it was removed since it was listed. */
function getValue(
  c: Libc,
  p: Uint8Array,
  raw: Uint8Array,
  path: string,
  name: string,
): Uint8Array | null {
  const n = new Uint8Array(raw.length + 1);
  n.set(raw);
  for (;;) {
    const size = Number(c.lgetxattr(p, n, null, 0n));
    if (size < 0) {
      const e = errno(c);
      if (e === ENODATA) return null;
      throw new XattrError(path, e, "read extended attribute", name);
    }
    const value = new Uint8Array(size);
    if (size === 0) return value;
    const got = Number(c.lgetxattr(p, n, value, BigInt(size)));
    if (got >= 0) return value.subarray(0, got);
    const e = errno(c);
    if (e === ENODATA) return null;
    if (e !== ERANGE) throw new XattrError(path, e, "read extended attribute", name);
  }
}

function cString(s: string): Uint8Array {
  return encoder.encode(`${s}\0`);
}

/** The calling thread's errno, read right after the failed call. */
function errno(c: Libc): number {
  return new Deno.UnsafePointerView(c.__errno_location()!).getInt32();
}

function errnoText(e: number): string {
  const c = load();
  const text = c?.strerror(e);
  return text ? Deno.UnsafePointerView.getCString(text) : "error";
}

/**
 * Whether the file system holding the folder `dir` takes `user.*` attributes (tmpfs only since
 * Linux 6.6): a probe file is made there, given one, and removed.
 */
export function userXattrsAt(dir: string): boolean {
  if (!xattrsSupported()) return false;
  const probe = `${dir}/.permafrost-xattr-probe-${crypto.randomUUID()}`;
  Deno.writeFileSync(probe, new Uint8Array());
  try {
    writeXattr(probe, "user.permafrost-probe", new Uint8Array());
    return true;
  } catch {
    return false;
  } finally {
    Deno.removeSync(probe);
  }
}
