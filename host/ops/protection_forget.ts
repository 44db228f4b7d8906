/**
 * `worm forget`: stop protecting files the user moved, renamed or deleted on purpose, by dropping
 * their entries from this machine's protection ledger (`host/cache/protection_ledger.ts`,
 * docs/engines.md "Forgetting protected files"). Plan, then execute: the plan names every entry
 * it drops, for `--dry-run` and the confirmation.
 *
 * The way out for a source that is gone from the disk (moved, renamed): `backup` refuses a
 * source that does not exist, so `--accept-changes` cannot clear its files, which `worm status`
 * would otherwise report as vanished forever. Nothing in the repository changes: the snapshots
 * that hold the originals stay (`forget` keeps worm snapshots unless `--include-worm`). A source
 * keeps its mark as known, so no later backup rebuilds the dropped entries from an old
 * snapshot; a backup of the same path protects its files again from then on, as they are then.
 *
 * @module
 */

import fs from "node:fs";
import type { ProtectionLedger } from "../cache/protection_ledger.ts";

/** What is dropped of one source (one engine's entries). */
export interface ForgetItem {
  engine: string;
  /** The source's absolute path. */
  source: string;
  /** Every entry of the source is dropped (a target at or above it), else `paths`. */
  whole: boolean;
  /** The relative paths dropped, sorted. */
  paths: string[];
  /** Their bytes as first stored. */
  bytes: number;
  /** How many of them are still regular files on disk (protected again by the next backup). */
  onDisk: number;
  /** The snapshots that hold their originals (full ids, sorted). */
  snapshots: string[];
  /** Whether the source path itself is gone from the disk. */
  sourceGone: boolean;
}

export interface ProtectionForgetPlan {
  items: ForgetItem[];
  /** Entries dropped in all. */
  files: number;
  bytes: number;
}

/**
 * What dropping the protection of `targets` (absolute paths) takes: for each, every ledger
 * source at or under it whole, and the entries at or under it of a source above it.
 * `Deno.errors.NotFound` for a target that no entry is at or under, before anything is dropped.
 */
export function planProtectionForget(
  ledger: ProtectionLedger,
  targets: string[],
): ProtectionForgetPlan {
  const sources = ledger.sources();
  const items = new Map<string, ForgetItem>();
  for (const target of targets) {
    let matched = false;
    for (const { engine, source } of sources) {
      const entries = [...ledger.entries(engine, source).values()];
      const whole = target === source || isUnder(source, target);
      const rel = !whole && isUnder(target, source) ? relative(source, target) : undefined;
      if (!whole && rel === undefined) continue;
      const picked = whole
        ? entries
        : entries.filter((e) => e.path === rel || e.path.startsWith(`${rel}/`));
      if (picked.length === 0) continue;
      matched = true;
      const key = `${engine}\0${source}`;
      const item = items.get(key) ?? newItem(engine, source);
      item.whole ||= whole;
      const paths = new Set([...item.paths, ...picked.map((e) => e.path)]);
      item.paths = [...paths].sort(byString);
      items.set(key, item);
    }
    if (!matched) {
      throw new Deno.errors.NotFound(
        `no protected file on this machine is at or under "${target}"; ` +
          "`permafrost worm status` lists the protected sources",
      );
    }
  }
  for (const item of items.values()) fill(ledger, item);
  const list = [...items.values()].sort((a, b) =>
    byString(a.source, b.source) || byString(a.engine, b.engine)
  );
  return {
    items: list,
    files: list.reduce((n, i) => n + i.paths.length, 0),
    bytes: list.reduce((n, i) => n + i.bytes, 0),
  };
}

/** Drops the plan's entries from the ledger, one transaction per source. */
export function executeProtectionForget(
  ledger: ProtectionLedger,
  plan: ProtectionForgetPlan,
): void {
  for (const item of plan.items) {
    ledger.drop(item.engine, item.source, item.whole ? undefined : item.paths);
  }
}

function newItem(engine: string, source: string): ForgetItem {
  return {
    engine,
    source,
    whole: false,
    paths: [],
    bytes: 0,
    onDisk: 0,
    snapshots: [],
    sourceGone: !exists(source),
  };
}

/** The item's counts from the ledger and the disk. */
function fill(ledger: ProtectionLedger, item: ForgetItem): void {
  const entries = ledger.entries(item.engine, item.source);
  if (item.whole) item.paths = [...entries.keys()].sort(byString);
  const snapshots = new Set<string>();
  for (const path of item.paths) {
    const e = entries.get(path)!;
    item.bytes += e.node.size ?? 0;
    snapshots.add(e.snapshot);
    if (!item.sourceGone && isFile(join(item.source, path))) item.onDisk++;
  }
  item.snapshots = [...snapshots].sort(byString);
}

/** Whether `path` is strictly under `dir` (both absolute). */
function isUnder(path: string, dir: string): boolean {
  return dir === "/" ? path !== "/" : path.startsWith(`${dir}/`);
}

function relative(source: string, path: string): string {
  return source === "/" ? path.slice(1) : path.slice(source.length + 1);
}

function join(source: string, rel: string): string {
  return rel === "" ? source : source === "/" ? `/${rel}` : `${source}/${rel}`;
}

function exists(path: string): boolean {
  try {
    fs.lstatSync(path);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

function isFile(path: string): boolean {
  try {
    return fs.lstatSync(path).isFile();
  } catch {
    return false;
  }
}

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
