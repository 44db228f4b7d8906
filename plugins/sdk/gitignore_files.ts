/**
 * Reading what git reads for ignore rules: a folder's `.gitignore`, whether a folder is the top
 * of a git work tree (its `.git`), and that work tree's `info/exclude` (docs/plugins.md §6.5).
 * Nothing else: no `core.excludesFile`, no git configuration at all. In the SDK because both
 * sides read the same files the same way: the `gitignore` filter under its roots, the host
 * above them (`host/ops/worktree_rules.ts`), passed to the filter as {@link WorktreeRules}.
 *
 * A file that is not there is no error; one that is there but cannot be read is, with a message
 * naming it, so that a backup never keeps what the user meant to exclude without saying so.
 *
 * @module
 */

/**
 * Rules from outside a root of the `gitignore` filter, read by the host for a root inside a git
 * work tree (part of the filter's config).
 */
export interface WorktreeRules {
  /** The top of the work tree that holds the root: the root itself or a folder above it. */
  top: string;
  /** The bytes of the work tree's `info/exclude`, if it has one. */
  exclude?: Uint8Array;
  /** The bytes of the `.gitignore` of each folder from `top` down to the root's parent. */
  gitignores?: Record<string, Uint8Array>;
}

/** Git's limit for an ignore file (100 MB, `PATTERN_MAX_FILE_SIZE`); larger ones are refused. */
export const MAX_IGNORE_FILE = 100 * 1000 * 1000;

/**
 * The bytes of `<dir>/.gitignore`, or `undefined` when there is none. Like git, a symlink
 * named `.gitignore` is not followed (git warns and reads no rules from it), and a folder or
 * other non-file named so holds no rules.
 */
export function readGitignore(dir: string): Uint8Array | undefined {
  const path = `${dir === "/" ? "" : dir}/.gitignore`;
  const st = statOrUndefined(path, false);
  if (!st?.isFile) return undefined;
  return readBounded(path, st.size);
}

/** The bytes of the `info/exclude` of the git folder `commonDir`, or `undefined`. */
export function readInfoExclude(commonDir: string): Uint8Array | undefined {
  const path = `${commonDir}/info/exclude`;
  const st = statOrUndefined(path, true);
  if (!st?.isFile) return undefined;
  return readBounded(path, st.size);
}

/**
 * When `dir` is the top of a git work tree, the folder holding its `info/` (the common git
 * directory: `<dir>/.git`, or where a `.git` file leads, as for submodules and linked work
 * trees); otherwise `undefined`. `.git` counts only when it is a repository (a valid `HEAD`,
 * `objects/` and `refs/`), as git checks it.
 */
export function workTreeCommonDir(dir: string): string | undefined {
  const dotGit = `${dir === "/" ? "" : dir}/.git`;
  const st = statOrUndefined(dotGit, true);
  let gitDir: string | undefined;
  if (st?.isDirectory) gitDir = dotGit;
  else if (st?.isFile) gitDir = gitFileTarget(dotGit, dir);
  if (gitDir === undefined || !validHead(`${gitDir}/HEAD`)) return undefined;
  const common = commonDirOf(gitDir);
  const isThere = (p: string) => statOrUndefined(p, true) !== undefined;
  return isThere(`${common}/objects`) && isThere(`${common}/refs`) ? common : undefined;
}

/** The folder a `.git` file names (`gitdir: PATH`, relative to `dir`), or `undefined`. */
function gitFileTarget(dotGit: string, dir: string): string | undefined {
  const text = decode(readHead(dotGit, 4096));
  if (!text.startsWith("gitdir: ")) return undefined;
  const target = text.slice(8).replace(/[\r\n]+$/, "");
  if (target === "") return undefined;
  return target.startsWith("/") ? target : `${dir === "/" ? "" : dir}/${target}`;
}

/** A git folder's common folder: itself, or what its `commondir` file names. */
function commonDirOf(gitDir: string): string {
  const file = `${gitDir}/commondir`;
  if (!statOrUndefined(file, true)?.isFile) return gitDir;
  const target = decode(readHead(file, 4096)).replace(/[\r\n]+$/, "");
  return target.startsWith("/") ? target : `${gitDir}/${target}`;
}

/** Whether `HEAD` is a symbolic ref into `refs/` (file or symlink) or an object id, as git asks. */
function validHead(path: string): boolean {
  const st = statOrUndefined(path, false);
  if (st === undefined) return false;
  if (st.isSymlink) return attempt(path, () => Deno.readLinkSync(path)).startsWith("refs/");
  if (!st.isFile) return false;
  const head = decode(readHead(path, 255));
  if (head.startsWith("ref:")) return head.slice(4).replace(/^[ \t\n\r]+/, "").startsWith("refs/");
  return /^[0-9a-f]{40}/i.test(head);
}

/**
 * `stat` (or `lstat`) of `path`; `undefined` when it does not exist (or a parent is no folder,
 * or symlinks loop: git finds nothing there either). Any other failure throws, naming the path.
 */
function statOrUndefined(path: string, follow: boolean): Deno.FileInfo | undefined {
  try {
    return follow ? Deno.statSync(path) : Deno.lstatSync(path);
  } catch (err) {
    if (
      err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory ||
      err instanceof Deno.errors.FilesystemLoop
    ) {
      return undefined;
    }
    throw unreadable(path, err);
  }
}

/** The bytes of ignore file `path` (`size` as its `stat` gave it); `RangeError` when too big. */
function readBounded(path: string, size: number): Uint8Array {
  if (size > MAX_IGNORE_FILE) {
    throw new RangeError(
      `filter "gitignore" will not read "${path}": it holds ${size} bytes, more than git's ` +
        `limit of ${MAX_IGNORE_FILE} for an ignore file; shorten it`,
    );
  }
  return attempt(path, () => Deno.readFileSync(path));
}

/** At most the first `max` bytes of `path` (a `.git` file, `HEAD`, `commondir`). */
function readHead(path: string, max: number): Uint8Array {
  return attempt(path, () => {
    using file = Deno.openSync(path);
    const buf = new Uint8Array(max);
    let n = 0;
    while (n < max) {
      const got = file.readSync(buf.subarray(n));
      if (got === null) break;
      n += got;
    }
    return buf.subarray(0, n);
  });
}

function attempt<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw unreadable(path, err);
  }
}

/** The error for a file that is there but cannot be read: its class kept, the path named. */
function unreadable(path: string, err: unknown): Error {
  const reason = err instanceof Error ? err.message : String(err);
  const hint = err instanceof Deno.errors.NotCapable
    ? "it lies outside the backup sources, the only folders this filter may read"
    : "make it readable, or back up without the .gitignore filter";
  const Class = err instanceof Error ? err.constructor as ErrorConstructor : Error;
  return new Class(`filter "gitignore" cannot read "${path}": ${reason}; ${hint}`);
}

const decoder = new TextDecoder();

function decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
