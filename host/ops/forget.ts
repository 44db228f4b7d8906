/**
 * `forget` (DESIGN §6, stage 1): drop snapshots by a keep policy. A plan, then an execute.
 *
 * - Admin only (DESIGN §3): `assertAdmin` (admin_gate.ts) refuses an ingest key or a storage handle without
 *   `delete` before anything is listed or deleted.
 * - Ages come from the store's own timestamp of each `snapshots/<id>` object where the store
 *   gives one, else from the manifest's claimed `time`; a claimed time more than an hour from
 *   the store's is reported (`disagreements`), so a client cannot push real snapshots out of a
 *   policy by lying about when it ran. The claimed time only orders snapshots the store dated
 *   to the same instant (S3 dates to the whole second), so `--keep-last 1` after two backups in
 *   one second keeps the later one.
 * - Execute deletes only the `snapshots/<id>` objects of forgotten snapshots, one at a time.
 *   Each delete is atomic and leaves a consistent repository (a snapshot is either listed and
 *   complete, or gone); packs and index segments are untouched (garbage collection's job). A run
 *   stopped midway is finished by running it again: the kept snapshots are the same.
 *
 * @module
 */

import { idOf, kindOf, layout } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import { assertAdmin } from "./admin_gate.ts";
import { applyKeepPolicy, type KeepPlan, type KeepPolicy, splitTags } from "./keep_policy.ts";

/** Claimed and store times further apart than this are reported. */
export const CLOCK_TOLERANCE_MS = 60 * 60 * 1000;

/** Which snapshots a run considers; the others are neither kept nor forgotten. */
export interface ForgetFilter {
  /** Only this host's snapshots. */
  host?: string;
  /** Only snapshots whose paths include every one of these. */
  paths?: string[];
  /** Only snapshots with every tag of one of these lists (`"a,b"`). */
  tags?: string[];
}

/** A snapshot whose claimed time is more than `CLOCK_TOLERANCE_MS` from the store's. */
export interface TimeDisagreement {
  id: string;
  claimed: string;
  store: string;
}

export interface ForgetPlan extends KeepPlan {
  /** Snapshots whose claimed time disagrees with the store (the store's time was used). */
  disagreements: TimeDisagreement[];
  /** Snapshots the filter left out. */
  untouched: number;
}

/** Lists the snapshots, dates them, and applies the policy. Deletes nothing. */
export async function planForget(
  repo: Repository,
  policy: KeepPolicy,
  filter: ForgetFilter = {},
): Promise<ForgetPlan> {
  assertAdmin(repo, "forget");
  const storeTimes = new Map<string, string>();
  for (const o of await repo.storage.list(layout.prefixes.snapshot)) {
    if (kindOf(o.name) === "snapshot" && o.modified) storeTimes.set(idOf(o.name), o.modified);
  }
  const disagreements: TimeDisagreement[] = [];
  const tagLists = (filter.tags ?? []).map(splitTags);
  const all = await repo.snapshots();
  const chosen = all.filter(({ manifest: m }) =>
    (filter.host === undefined || m.host === filter.host) &&
    (filter.paths ?? []).every((p) => m.paths.includes(p)) &&
    (tagLists.length === 0 || tagLists.some((list) => list.every((t) => m.tags.includes(t))))
  );
  const dated = chosen.map(({ id, manifest: m }) => {
    const store = storeTimes.get(id);
    if (store !== undefined && disagree(m.time, store)) {
      disagreements.push({ id, claimed: m.time, store });
    }
    return {
      id,
      time: store ?? m.time,
      claimed: m.time,
      host: m.host,
      paths: m.paths,
      tags: m.tags,
    };
  });
  return {
    ...applyKeepPolicy(dated, policy),
    disagreements,
    untouched: all.length - chosen.length,
  };
}

/**
 * Deletes the forgotten snapshots' manifests one by one, calling `onDeleted` after each, and
 * returns their ids. Nothing else is deleted.
 */
export async function executeForget(
  repo: Repository,
  plan: KeepPlan,
  onDeleted: (id: string) => void = () => {},
): Promise<string[]> {
  assertAdmin(repo, "forget");
  const deleted: string[] = [];
  for (const { id } of plan.forget) {
    await repo.storage.delete(layout.snapshot(id));
    deleted.push(id);
    onDeleted(id);
  }
  return deleted;
}

function disagree(claimed: string, store: string): boolean {
  const a = Date.parse(claimed);
  const b = Date.parse(store);
  return Number.isNaN(a) || Math.abs(a - b) > CLOCK_TOLERANCE_MS;
}
