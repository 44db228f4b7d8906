/**
 * `sync prune`: deletes the mirrored objects (and object versions) that no snapshot names any
 * more, once `forget` dropped the snapshots that did (docs/engines.md `sync`). Admin only. A plan
 * first, then its execution:
 *
 * 1. **Referenced.** Every snapshot's trees are walked for the mirrored files they name
 *    (docs/format.md §8 `mirror`); an object (version) any of them names is kept. As gc, it
 *    refuses to run while a snapshot manifest or index segment cannot be decoded.
 * 2. **Grace.** An object written less than the grace period ago is kept: a backup still running
 *    may have written it for a snapshot it has not committed yet (as `gc purge`, docs/gc.md).
 * 3. **Minimum storage duration.** One younger than its class's minimum is kept until it ends
 *    (its date is given), unless `early`: then it is deleted and the early-deletion fee is in
 *    the plan (docs/cost-model.md §5).
 *
 * The readable manifests (`mirror/<source>/.permafrost/`) are never deleted. The execution
 * walks the snapshots once more and deletes only what none names then.
 *
 * @module
 */

import { earlyDeletionItems, remainingDays } from "../cost/delete_cost.ts";
import { toGB } from "../cost/estimate.ts";
import type { PriceTable } from "../cost/price_table.ts";
import { isMirrorManifest, layout } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import type { StorageClass } from "../storage/storage.ts";
import { assertNothingUndecodable } from "./admin_gate.ts";
import { walkTree } from "./snapshot_path.ts";

const DAY_MS = 86_400_000;

/** The grace period of `sync prune` unless told: one day, as `gc purge`'s. */
export const DEFAULT_PRUNE_GRACE_MS = DAY_MS;

export interface SyncPruneOptions {
  table: PriceTable;
  graceMs: number;
  /** Delete objects inside their minimum storage duration too, paying the remaining days. */
  early: boolean;
  /** Whether the store bills minimum durations (not a plain folder or SQLite). */
  minimumDurations: boolean;
  /** Now, in ms (tests). */
  now?: number;
}

/** One mirrored object (version) no snapshot names. */
export interface PruneCandidate {
  name: string;
  version?: string;
  /** The key's current version (a node naming the key without a version reads this one). */
  latest?: boolean;
  bytes: number;
  storageClass: StorageClass;
  ageDays: number;
  earlyFeeUsd: number;
  /** The day its minimum storage duration ends (YYYY-MM-DD), while that is ahead. */
  freeOn?: string;
}

export interface SyncPrunePlan {
  /** Deleted by the execution. */
  delete: PruneCandidate[];
  /** Inside their minimum storage duration, and not `early`: kept. */
  young: PruneCandidate[];
  /** Written within the grace period: kept. */
  grace: number;
  /** Objects (versions) some snapshot names: kept. */
  referenced: number;
  bytes: number;
  earlyFeeUsd: number;
}

/** Plans a prune (module doc); reads trees and listings, deletes nothing. */
export async function planSyncPrune(
  repo: Repository,
  options: SyncPruneOptions,
): Promise<SyncPrunePlan> {
  const now = options.now ?? Date.now();
  const named = await referencedObjects(repo);
  const plan: SyncPrunePlan = {
    delete: [],
    young: [],
    grace: 0,
    referenced: 0,
    bytes: 0,
    earlyFeeUsd: 0,
  };
  for (const o of await mirrorObjects(repo)) {
    if (isNamed(named, o)) {
      plan.referenced++;
      continue;
    }
    const modified = o.modified ? Date.parse(o.modified) : now; // unknown: too young
    if (now - modified < options.graceMs) {
      plan.grace++;
      continue;
    }
    const storageClass = o.storageClass ?? "STANDARD";
    const ageDays = Math.floor((now - modified) / DAY_MS);
    const remaining = options.minimumDurations
      ? remainingDays(ageDays, storageClass, options.table)
      : 0;
    const fee = remaining === 0 ? 0 : earlyDeletionItems(
      toGB(o.size, options.table),
      ageDays,
      storageClass,
      options.table,
    ).reduce((sum, i) => sum + i.usd, 0);
    const c: PruneCandidate = {
      name: o.name,
      ...(o.version !== undefined ? { version: o.version } : {}),
      ...(o.latest ? { latest: true } : {}),
      bytes: o.size,
      storageClass,
      ageDays,
      earlyFeeUsd: Math.round(fee * 1e6) / 1e6,
      ...(remaining > 0
        ? { freeOn: new Date(now + remaining * DAY_MS).toISOString().slice(0, 10) }
        : {}),
    };
    if (remaining > 0 && !options.early) {
      plan.young.push(c);
      continue;
    }
    plan.delete.push(c);
    plan.bytes += c.bytes;
    plan.earlyFeeUsd += c.earlyFeeUsd;
  }
  plan.earlyFeeUsd = Math.round(plan.earlyFeeUsd * 1e6) / 1e6;
  return plan;
}

/**
 * Deletes the plan's objects that no snapshot names now (a backup may have committed one
 * meanwhile); resolves how many it deleted and how many it kept for that reason.
 */
export async function executeSyncPrune(
  repo: Repository,
  plan: SyncPrunePlan,
): Promise<{ deleted: number; bytes: number; keptForNewSnapshots: number }> {
  const named = await referencedObjects(repo);
  let deleted = 0, bytes = 0, kept = 0;
  for (const c of plan.delete) {
    if (isNamed(named, c)) {
      kept++;
      continue;
    }
    if (c.version === undefined) await repo.storage.delete(c.name);
    else await repo.storage.deleteVersion(c.name, c.version);
    deleted++;
    bytes += c.bytes;
  }
  return { deleted, bytes, keptForNewSnapshots: kept };
}

/**
 * Every mirrored object (version) a snapshot of `repo` names, by `objectKey`. Refuses, as gc
 * does, while a snapshot manifest or index segment cannot be decoded: what only it names would
 * look unnamed and be deleted (docs/gc.md "Objects that do not decode").
 */
async function referencedObjects(repo: Repository): Promise<Set<string>> {
  await repo.loadIndex(); // trees are read through it
  const snapshots = await repo.snapshots();
  assertNothingUndecodable(repo, "sync prune");
  const named = new Set<string>();
  const walked = new Set<string>();
  for (const s of snapshots) {
    if (walked.has(s.manifest.root)) continue;
    walked.add(s.manifest.root);
    await walkTree(repo, s.manifest.root, "/", (_path, node) => {
      if (node.mirror) named.add(objectKey(node.mirror.key, node.mirror.version));
    });
  }
  return named;
}

/**
 * The store's mirrored objects, or their versions on a store that keeps them, without the
 * readable manifests.
 */
async function mirrorObjects(repo: Repository) {
  const prefix = layout.prefixes.mirror;
  const versioned = (await repo.storage.versioning()) !== "off";
  const listed: {
    name: string;
    size: number;
    version?: string;
    latest?: boolean;
    modified?: string;
    storageClass?: StorageClass;
  }[] = versioned ? await repo.storage.listVersions(prefix) : await repo.storage.list(prefix);
  return listed.filter((o) => !isMirrorManifest(o.name));
}

/**
 * Whether a snapshot names the object (version) `o`. A node without a version (written
 * create-only, before the bucket's versioning was enabled) names its key's `null` version and
 * the current one, which a reader of the key gets: both are kept.
 */
function isNamed(
  named: Set<string>,
  o: { name: string; version?: string; latest?: boolean },
): boolean {
  if (named.has(objectKey(o.name, o.version))) return true;
  return o.version !== undefined && named.has(o.name) &&
    (o.version === "null" || o.latest === true);
}

function objectKey(name: string, version: string | undefined): string {
  return version === undefined ? name : `${name}\0${version}`;
}
