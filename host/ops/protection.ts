/**
 * Protected files, for every engine (docs/engines.md "Protection"): every file of a `worm`
 * backup, and the files of any backup that match its never-change globs (gitignore-style,
 * relative to the source root, as `--exclude` takes them, matched by the `exclude` filter
 * plugin). The host sees every file node the engine stores; for each protected file it compares
 * the content ids with the protection ledger's (`host/cache/protection_ledger.ts`): a file whose
 * ids differ is "changed", a ledger entry not seen in this run "vanished" (also when a filter now
 * leaves it out). A stat-only change (same content) is no finding.
 *
 * What is stored: under `worm` a changed file's node is the ledger's original (its blobs must
 * still be indexed), unless `acceptChanges`; under any other engine the node on disk, with a
 * finding. The ledger is written only after the snapshot commits (`commit`): new protected files
 * with this snapshot's id; a changed or vanished file keeps its original entry until the user
 * accepts the changes (then the new version is recorded, the vanished entry dropped). A dry run
 * writes nothing: it reads the ledger only, and rebuilds a lost one in memory.
 *
 * @module
 */

import type { SourceNode } from "../../plugins/sdk/engine_types.ts";
import type { TreeNode } from "../../plugins/sdk/tree_node.ts";
import { type LedgerEntry, ProtectionLedger } from "../cache/protection_ledger.ts";
import { type PluginHandle, startPlugin } from "../plugin/sandbox.ts";
import type { Repository, SnapshotEntry } from "../repository/repository.ts";
import type { SnapshotFinding } from "../repository/snapshot.ts";

/** The engine whose every file is protected. */
export const WORM_ENGINE = "worm";

/**
 * A protected file that changed or vanished since it was first stored: the shape the snapshot's
 * details keep (docs/format.md §9.2). `path` is the file's absolute path on disk, `source` and
 * `rel` its source's name in snapshots and its path under it.
 */
export type Finding = SnapshotFinding;

/** How one run protects files. */
export interface ProtectionOptions {
  engine: string;
  /** Never-change globs (any engine). */
  neverChange: string[];
  /** Record changed files as new originals and drop vanished ones. */
  acceptChanges: boolean;
  /**
   * A dry run (`backup --dry-run`, `--estimate`): the ledger is read only, and one rebuilt from
   * a snapshot is kept in memory; nothing is written.
   */
  dryRun?: boolean;
  onWarning?: (path: string, reason: string) => void;
}

/** One source's state in a run. */
interface SourceState {
  path: string;
  name: string;
  ledger: Map<string, LedgerEntry>;
  seen: Set<string>;
  /** New or accepted entries to write once the snapshot commits (snapshot id filled then). */
  put: { path: string; node: TreeNode }[];
  /**
   * Ledger entries of files this run stored but no never-change glob matches any more (the
   * user dropped the glob): no longer protected, removed once the snapshot commits.
   */
  lifted: string[];
}

/** Whether a run of `engine` with `neverChange` globs protects anything. */
export function protects(engine: string, neverChange: readonly string[]): boolean {
  return engine === WORM_ENGINE || neverChange.length > 0;
}

/**
 * The restore command for file `rel` of source `name` in snapshot `snapshot`, quoted for a
 * POSIX shell when it needs to be.
 */
export function restoreCommand(snapshot: string, name: string, rel: string): string {
  const spec = `${snapshot}:/${name}${rel === "" ? "" : `/${rel}`}`;
  const quoted = /^[A-Za-z0-9_./:@%+=,-]+$/.test(spec)
    ? spec
    : `'${spec.replaceAll("'", `'\\''`)}'`;
  return `permafrost restore ${quoted} --target DIR`;
}

/**
 * The never-change globs, matched by the `exclude` filter plugin (its `match` = protected).
 * `match` is called for several directories at once (the engine stores trees concurrently), so
 * a plugin is closed only by `close`, never while another call may still be using it.
 */
class GlobMatcher {
  /** Each positive glob not yet seen to match, with a plugin of its own. */
  #unmatched = new Map<string, PluginHandle>();
  /** Every plugin started, closed by `close`. */
  readonly #started: Set<PluginHandle>;

  private constructor(readonly all: PluginHandle, unmatched: Map<string, PluginHandle>) {
    this.#unmatched = unmatched;
    this.#started = new Set([all, ...unmatched.values()]);
  }

  static async start(globs: string[]): Promise<GlobMatcher> {
    const start = (patterns: string[]) =>
      startPlugin({ kind: "filter", name: "exclude", config: { patterns } });
    const all = await start(globs);
    const single = new Map<string, PluginHandle>();
    try {
      for (const g of globs) {
        if (g.startsWith("!") || g.startsWith("#") || g.trim() === "" || single.has(g)) continue;
        single.set(g, globs.length === 1 ? all : await start([g]));
      }
    } catch (err) {
      for (const h of new Set([all, ...single.values()])) await h.close();
      throw err;
    }
    return new GlobMatcher(all, single);
  }

  /** For each path (relative to `root`), whether it is protected. */
  async match(rels: string[], root: string): Promise<boolean[]> {
    if (rels.length === 0) return [];
    const dirs = rels.map(() => false);
    for (const [glob, h] of [...this.#unmatched]) {
      const hits = await h.call<boolean[]>("match", rels, dirs, root);
      if (hits.some(Boolean)) this.#unmatched.delete(glob);
    }
    return await this.all.call<boolean[]>("match", rels, dirs, root);
  }

  /** The globs that matched no file. */
  unmatched(): string[] {
    return [...this.#unmatched.keys()];
  }

  async close(): Promise<void> {
    for (const h of this.#started) await h.close();
  }
}

/** The protection of one backup run (module comment). Close it when the run ends. */
export class Protection {
  readonly #sources: SourceState[];
  readonly #changed: Finding[] = [];
  #globs?: GlobMatcher;

  private constructor(
    readonly options: ProtectionOptions,
    readonly ledger: ProtectionLedger,
    sources: SourceState[],
    globs?: GlobMatcher,
  ) {
    this.#sources = sources;
    this.#globs = globs;
  }

  /**
   * Starts protection over `paths` (absolute sources) with the ledger at `ledgerPath`. A source
   * with no ledger entries whose latest snapshot of the same host, paths and engine is `previous`
   * gets them rebuilt from that snapshot when the key can read trees (with a note), and a warning
   * that protection restarts from this snapshot when it cannot.
   */
  static async start(
    repo: Repository,
    paths: string[],
    ledgerPath: string,
    options: ProtectionOptions,
    previous?: SnapshotEntry,
  ): Promise<Protection> {
    const ledger = new ProtectionLedger(ledgerPath, { readOnly: options.dryRun === true });
    let globs: GlobMatcher | undefined;
    try {
      globs = options.neverChange.length > 0
        ? await GlobMatcher.start(options.neverChange)
        : undefined;
      const sources: SourceState[] = [];
      for (const path of paths) {
        const name = path === "/" ? "root" : path.split("/").pop()!;
        let entries = ledger.entries(options.engine, path);
        if (entries.size === 0 && previous !== undefined && !ledger.knows(options.engine, path)) {
          entries = await rebuild(repo, ledger, options, path, name, previous, globs);
        }
        sources.push({ path, name, ledger: entries, seen: new Set(), put: [], lifted: [] });
      }
      return new Protection(options, ledger, sources, globs);
    } catch (err) {
      await globs?.close();
      ledger.close();
      throw err;
    }
  }

  /**
   * The nodes of directory `dir` (absolute) to store: each protected file is compared with the
   * ledger, and under `worm` a changed one is replaced by its original. `has` says whether a blob
   * is stored; an original whose blobs are gone fails the backup.
   */
  async see(
    dir: string,
    nodes: SourceNode[],
    has: (id: string) => boolean,
  ): Promise<SourceNode[]> {
    const source = this.#sourceOf(dir);
    if (source === undefined) return nodes;
    const base = dir === source.path ? "" : dir.slice(source.path.length + 1);
    return await this.#check(source, base, nodes, has);
  }

  /** The node of a source that is itself a file (not under a directory the engine stored). */
  async seeSource(path: string, node: SourceNode, has: (id: string) => boolean) {
    const source = this.#sources.find((s) => s.path === path);
    if (source === undefined || node.type !== "file") return node;
    const [out] = await this.#check(source, undefined, [node], has);
    return out;
  }

  async #check(
    source: SourceState,
    base: string | undefined,
    nodes: SourceNode[],
    has: (id: string) => boolean,
  ): Promise<SourceNode[]> {
    const files = nodes.map((n, i) => ({ n, i })).filter(({ n }) => n.type === "file");
    if (files.length === 0) return nodes;
    const relOf = (n: SourceNode) =>
      base === undefined ? "" : base === "" ? n.name : `${base}/${n.name}`;
    const rels = files.map(({ n }) => relOf(n));
    const worm = this.options.engine === WORM_ENGINE;
    const wanted = worm
      ? rels.map(() => true)
      : await this.#globs!.match(rels.map((r) => r === "" ? source.name : r), source.path);
    const out = [...nodes];
    files.forEach(({ n, i }, k) => {
      const rel = rels[k];
      if (!wanted[k]) {
        // Stored, so not vanished: its glob was dropped, and it is no longer protected.
        if (source.ledger.has(rel) && !source.seen.has(rel)) {
          source.seen.add(rel);
          source.lifted.push(rel);
          this.options.onWarning?.(
            joinPath(source.path, rel),
            "is no longer protected: no never-change glob matches it now",
          );
        }
        return;
      }
      source.seen.add(rel);
      const first = source.ledger.get(rel);
      const node = ledgerNode(n);
      if (first === undefined) {
        source.put.push({ path: rel, node });
        return;
      }
      if (sameContent(first.node, n)) return;
      this.#changed.push(finding("changed", source, rel, first.snapshot));
      if (this.options.acceptChanges) {
        source.put.push({ path: rel, node });
        return;
      }
      if (!worm) return;
      const gone = (first.node.content ?? []).find((id) => !has(id));
      if (gone !== undefined) {
        throw new Error(
          `protected file "${joinPath(source.path, rel)}" changed, and its original (first ` +
            `stored by snapshot ${first.snapshot.slice(0, 8)}) can no longer be kept: its blob ` +
            `"${gone}" is not in the repository any more (forgotten and collected by gc), so ` +
            "no snapshot can restore it. Nothing was committed; run the backup with " +
            "--accept-changes to keep the new version as the original",
        );
      }
      out[i] = { ...first.node, name: n.name } as SourceNode;
    });
    return out;
  }

  /** Every finding of the run: changed files as seen, then vanished ones, by path. */
  findings(): Finding[] {
    const vanished = this.#sources.flatMap((s) =>
      [...s.ledger.values()].filter((e) => !s.seen.has(e.path))
        .map((e) => finding("vanished", s, e.path, e.snapshot))
    );
    const byPath = (a: Finding, b: Finding) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
    return [...this.#changed.sort(byPath), ...vanished.sort(byPath)];
  }

  /** The never-change globs that matched no file in this run. */
  unmatchedGlobs(): string[] {
    return this.#globs?.unmatched() ?? [];
  }

  /** Writes the ledger once snapshot `snapshot` committed (module comment). */
  commit(snapshot: string): void {
    for (const s of this.#sources) {
      const drop = this.options.acceptChanges
        ? [...s.ledger.keys()].filter((p) => !s.seen.has(p))
        : [];
      drop.push(...s.lifted);
      this.ledger.apply(
        this.options.engine,
        s.path,
        s.put.map((e) => ({ ...e, snapshot })),
        drop,
      );
    }
  }

  async close(): Promise<void> {
    await this.#globs?.close();
    this.ledger.close();
  }

  #sourceOf(dir: string): SourceState | undefined {
    let best: SourceState | undefined;
    for (const s of this.#sources) {
      const under = dir === s.path || dir.startsWith(s.path === "/" ? "/" : `${s.path}/`);
      if (under && (best === undefined || s.path.length > best.path.length)) best = s;
    }
    return best;
  }
}

/**
 * The ledger of `source` rebuilt from snapshot `previous` (its tree of the source: hot metadata
 * only), when the key can read trees; else a warning that protection restarts.
 */
async function rebuild(
  repo: Repository,
  ledger: ProtectionLedger,
  options: ProtectionOptions,
  path: string,
  name: string,
  previous: SnapshotEntry,
  globs: GlobMatcher | undefined,
): Promise<Map<string, LedgerEntry>> {
  const snap = previous.id.slice(0, 8);
  if (!repo.canRead) {
    options.onWarning?.(
      path,
      `has no protection ledger on this machine, and this key cannot read snapshot ${snap} to ` +
        "rebuild it: protection of its files restarts from this snapshot",
    );
    return new Map();
  }
  const root = await repo.tree(previous.manifest.root);
  const top = root.nodes.find((n) => n.name === name);
  const files: { path: string; node: TreeNode }[] = [];
  const walk = async (node: TreeNode, rel: string): Promise<void> => {
    if (node.type === "file") files.push({ path: rel, node: ledgerNode(node as SourceNode) });
    if (node.type !== "dir" || node.subtree === undefined) return;
    for (const child of (await repo.tree(node.subtree)).nodes) {
      await walk(child, rel === "" ? child.name : `${rel}/${child.name}`);
    }
  };
  if (top !== undefined) await walk(top, "");
  let kept = files;
  if (options.engine !== WORM_ENGINE && globs !== undefined) {
    const hits = await globs.all.call<boolean[]>(
      "match",
      files.map((f) => f.path === "" ? name : f.path),
      files.map(() => false),
      path,
    );
    kept = files.filter((_, i) => hits[i]);
  }
  const entries = kept.map((f) => ({ ...f, snapshot: previous.id }));
  const count = `${entries.length} protected file${entries.length === 1 ? "" : "s"}`;
  if (options.dryRun) {
    // A dry run writes nothing: the rebuilt entries live in this run only.
    options.onWarning?.(
      path,
      `has no protection ledger on this machine: this dry run rebuilt it in memory from ` +
        `snapshot ${snap} (${count}), which holds the originals; the next backup writes it`,
    );
  } else {
    ledger.apply(options.engine, path, entries, []);
    options.onWarning?.(
      path,
      `had no protection ledger on this machine: rebuilt from snapshot ${snap} ` +
        `(${count}), which now holds their originals`,
    );
  }
  return new Map(entries.map((e) => [e.path, e]));
}

/** A node as the ledger keeps it: without hard-link fields, which name this machine's inodes. */
function ledgerNode(n: SourceNode | TreeNode): TreeNode {
  const { inode: _i, dev: _d, links: _l, ...rest } = n as TreeNode;
  return rest;
}

function sameContent(a: TreeNode, b: SourceNode): boolean {
  const x = a.content ?? [], y = b.content ?? [];
  // A mirrored file (`sync`) has no blobs: its SHA-256 is its content.
  if (a.mirror?.sha256 !== b.mirror?.sha256) return false;
  return a.size === b.size && x.length === y.length && x.every((id, i) => id === y[i]);
}

function finding(
  kind: Finding["kind"],
  source: SourceState,
  rel: string,
  snapshot: string,
): Finding {
  return {
    kind,
    path: joinPath(source.path, rel),
    source: source.name,
    rel,
    snapshot,
    restore: restoreCommand(snapshot, source.name, rel),
  };
}

function joinPath(source: string, rel: string): string {
  return rel === "" ? source : source === "/" ? `/${rel}` : `${source}/${rel}`;
}
