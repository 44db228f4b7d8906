/**
 * `forget` (docs/gc.md "Forget", stage 1): drop snapshots by a keep policy. A plan, then an
 * execute.
 *
 * - Admin only (docs/security.md §1): `assertAdmin` (admin_gate.ts) refuses an ingest key or a
 *   storage handle without `delete` before anything is listed or deleted.
 * - Ages are times the store set, never the client (docs/format.md §9.1; `snapshot_dates.ts`):
 *   the earlier of the store's time of `snapshots/<id>` and of the cold pack `packs/<P>` that
 *   holds the snapshot's details blob, P's holding of it checked from P's own bytes with the
 *   private key. A rebuild writes every manifest anew but leaves the packs alone, so retention
 *   decides after it exactly as before. Where that pack cannot be checked, the manifest's time
 *   is used and the plan says why (`fallbacks`); without any store time, the claimed `time`.
 *   A claimed time more than an hour from the date used is reported (`disagreements`), so a
 *   client cannot push real snapshots out of a policy by lying about when it ran. The claimed
 *   time only orders snapshots dated to the same instant (S3 dates to the whole second), so
 *   `--keep-last 1` after two backups in one second keeps the later one.
 * - Execute deletes only the `snapshots/<id>` objects of forgotten snapshots, one at a time.
 *   Each delete is atomic and leaves a consistent repository (a snapshot is either listed and
 *   complete, or gone); packs and index segments are untouched (garbage collection's job). A run
 *   stopped midway is finished by running it again: the kept snapshots are the same.
 *
 * @module
 */

import { layout } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import { assertAdmin } from "./admin_gate.ts";
import {
  applyKeepPolicy,
  type KeepPlan,
  type KeepPolicy,
  type PolicySnapshot,
  splitTags,
} from "./keep_policy.ts";
import { type DatedBy, dateSnapshots } from "./snapshot_dates.ts";

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
  /**
   * Let the policy forget `worm` snapshots too. Without it every worm snapshot is kept
   * (docs/gc.md "Forget"): one may be the only snapshot holding a protected original.
   */
  includeWorm?: boolean;
}

/** The reason a worm snapshot is kept whatever the policy (without `includeWorm`). */
export const WORM_KEPT = "worm (forget worm snapshots with --include-worm)";

/** A snapshot whose claimed time is more than `CLOCK_TOLERANCE_MS` from the store's. */
export interface TimeDisagreement {
  id: string;
  claimed: string;
  store: string;
}

/** A snapshot as `forget` dates it: `time` is the store's, `datedBy` says which object's. */
export interface DatedSnapshot extends PolicySnapshot {
  datedBy: DatedBy;
}

/** A snapshot that the pack holding its details did not date, and why. */
export interface DatingFallback {
  id: string;
  reason: string;
}

export interface ForgetPlan extends KeepPlan<DatedSnapshot> {
  /** Snapshots whose claimed time disagrees with the store (the store's time was used). */
  disagreements: TimeDisagreement[];
  /** Snapshots dated by their manifest because the pack holding their details could not be. */
  fallbacks: DatingFallback[];
  /** What dating read: metadata packs read whole, and their bytes. */
  dating: { packsRead: number; bytesRead: number };
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
  const disagreements: TimeDisagreement[] = [];
  const fallbacks: DatingFallback[] = [];
  const tagLists = (filter.tags ?? []).map(splitTags);
  const all = await repo.snapshots();
  const chosen = all.filter(({ manifest: m }) =>
    (filter.host === undefined || m.host === filter.host) &&
    (filter.paths ?? []).every((p) => m.paths.includes(p)) &&
    (tagLists.length === 0 || tagLists.some((list) => list.every((t) => m.tags.includes(t))))
  );
  const { dates, packsRead, bytesRead } = await dateSnapshots(repo, chosen);
  const dated = chosen.map(({ id, manifest: m }): DatedSnapshot => {
    const date = dates.get(id)!;
    if (date.by !== "claimed" && disagree(m.time, date.time)) {
      disagreements.push({ id, claimed: m.time, store: date.time });
    }
    if (date.fallback !== undefined) fallbacks.push({ id, reason: date.fallback });
    return {
      id,
      time: date.time,
      claimed: m.time,
      datedBy: date.by,
      host: m.host,
      paths: m.paths,
      tags: m.tags,
    };
  });
  const applied = applyKeepPolicy(dated, policy);
  if (filter.includeWorm !== true) {
    const worm = new Set(chosen.filter((s) => s.manifest.engine === "worm").map((s) => s.id));
    const held = applied.forget.filter((s) => worm.has(s.id));
    applied.forget = applied.forget.filter((s) => !worm.has(s.id));
    applied.keep = [...applied.keep, ...held.map((s) => ({ ...s, reasons: [WORM_KEPT] }))]
      .sort((a, b) => a.time < b.time ? 1 : a.time > b.time ? -1 : 0);
  }
  return {
    ...applied,
    disagreements,
    fallbacks,
    dating: { packsRead, bytesRead },
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
