/**
 * What a backup leaves out, and the filter plugins that decide it (docs/plugins.md §5.3, §6.4,
 * §6.5): `filter/exclude` for the user's patterns, `filter/gitignore` for what git would
 * ignore. They run composed behind the one `filter` capability the engine is offered: a path
 * is excluded if any filter excludes it. The walk rules (`excludeIfPresent`,
 * `excludeLargerThan`) are the walker's own, passed in the engine's config.
 *
 * @module
 */

import { type PluginHandle, startPlugin } from "../plugin/sandbox.ts";
import { readWorktreeRules } from "./worktree_rules.ts";

/** What to leave out of a backup, as the user gave it (flags, a source's configuration). */
export interface SourceFilters {
  /** Gitignore-style patterns, relative to each source (`filter/exclude`). */
  excludes?: string[];
  /** Leave out what git would ignore (`filter/gitignore`). */
  gitIgnore?: boolean;
  /** File names: a folder holding one is left out (plugins/sdk/walk_rules.ts). */
  excludeIfPresent?: string[];
  /** Regular files larger than this many bytes are left out. */
  excludeLargerThan?: number;
  /** Installed filter plugins by name, with their config (docs/plugins.md §7.5). */
  plugins?: { name: string; config: unknown }[];
}

/** A filter plugin's answer to `match`. */
type Match = (paths: string[], dirs: boolean[], root: string) => Promise<boolean[]>;

/**
 * The filter plugins of one backup, started for its sources. `match` asks each of them (in
 * parallel) and excludes a path any of them excludes; `on` is false when there are none, and
 * then no one is asked. Close it when the backup ends.
 */
export class BackupFilters {
  readonly #plugins: { name: string; handle: PluginHandle }[];
  readonly #sources: readonly string[];

  private constructor(plugins: { name: string; handle: PluginHandle }[], sources: string[]) {
    this.#plugins = plugins;
    this.#sources = sources;
  }

  /**
   * Starts the filters `filters` asks for, over `sources` (absolute, resolved). Throws what a
   * plugin's start throws (a bad pattern, an ignore file above a source that cannot be read),
   * having closed those already started.
   */
  static async start(sources: string[], filters: SourceFilters): Promise<BackupFilters> {
    const plugins: { name: string; handle: PluginHandle }[] = [];
    try {
      const excludes = filters.excludes ?? [];
      if (excludes.length > 0) {
        plugins.push({
          name: "exclude",
          handle: await startPlugin({
            kind: "filter",
            name: "exclude",
            config: { patterns: excludes },
          }),
        });
      }
      const folders = folderSources(sources);
      const roots = outermost(folders);
      if (filters.gitIgnore && roots.length > 0) {
        const config = {
          roots: roots.map((path) => {
            const worktree = readWorktreeRules(path);
            return worktree ? { path, worktree } : path;
          }),
        };
        plugins.push({
          name: "gitignore",
          handle: await startPlugin({
            kind: "filter",
            name: "gitignore",
            vars: { $sources: roots },
            config,
          }),
        });
        await refuseIgnoredSources(plugins[plugins.length - 1].handle, folders);
      }
      for (const { name, config } of filters.plugins ?? []) {
        plugins.push({
          name,
          handle: await startPlugin({ kind: "filter", name, vars: { $sources: sources }, config }),
        });
      }
    } catch (err) {
      for (const p of plugins) await p.handle.close();
      throw err;
    }
    return new BackupFilters(plugins, sources);
  }

  /** Whether any filter runs. */
  get on(): boolean {
    return this.#plugins.length > 0;
  }

  /**
   * For each path (relative to `root`, the source it is under), whether a filter excludes it;
   * `dirs[i]` says whether `paths[i]` is a folder. An engine sends these: a `root` that is not a
   * source, lists of different lengths and a filter's malformed answer are `TypeError`s.
   */
  readonly match: Match = async (paths, dirs, root) => {
    if (!Array.isArray(paths) || !Array.isArray(dirs) || paths.length !== dirs.length) {
      throw new TypeError(`filter.match needs two lists of equal length, "paths" and "dirs"`);
    }
    if (!this.#sources.includes(root)) {
      throw new TypeError(`filter.match: root ${JSON.stringify(root)} is not a backup source`);
    }
    if (paths.length === 0) return [];
    const answers = await Promise.all(
      this.#plugins.map(async ({ name, handle }) => {
        const a = await handle.call<unknown>("match", paths, dirs, root);
        if (!Array.isArray(a) || a.length !== paths.length) {
          throw new TypeError(`filter "${name}" answered match() with no list of ${paths.length}`);
        }
        return a;
      }),
    );
    return paths.map((_, i) => answers.some((a) => a[i] === true));
  };

  async close(): Promise<void> {
    for (const p of this.#plugins) await p.handle.close();
  }
}

/**
 * Refuses a folder source that git itself ignores (a `.gitignore` or `info/exclude` above it
 * excludes it, or a folder it is in): with `--git-ignore` nothing under it would be kept, and the
 * backup would end without error holding an empty folder. Asks `gitignore`, the started filter,
 * with absolute paths (each at or under one of its roots).
 */
async function refuseIgnoredSources(gitignore: PluginHandle, folders: string[]): Promise<void> {
  const ignored = await gitignore.call<boolean[]>("match", folders, folders.map(() => true));
  const source = folders.find((_, i) => ignored[i] === true);
  if (source === undefined) return;
  throw new TypeError(
    `source "${source}" is itself ignored by git (a .gitignore or info/exclude above it ` +
      "excludes it), so --git-ignore would back up nothing in it; back it up without " +
      "--git-ignore (git_ignore = false in its configuration), or change that rule",
  );
}

/** The sources that are folders (not symlinks to one). */
function folderSources(sources: string[]): string[] {
  return sources.filter((s) => {
    try {
      return Deno.lstatSync(s).isDirectory;
    } catch {
      return false; // a source that vanished: the engine reports it
    }
  });
}

/**
 * The roots of the `gitignore` filter: the folder sources less those inside another (its roots
 * must not nest; a path under an inner source is matched as part of the outer one, as git
 * would match it).
 */
function outermost(folders: string[]): string[] {
  return folders.filter((s) =>
    !folders.some((o) => o !== s && (o === "/" || s.startsWith(`${o}/`)))
  );
}
