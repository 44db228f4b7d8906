/**
 * `permafrost mount --thaw` (docs/mount.md "Cold data"): a read of a file whose packs are
 * archived requests their restore through the thaw workflow (host/workflows/thaw.ts: the same
 * idempotent requests `restore` sends) and fails at once with EAGAIN, saying when the packs
 * will be readable. Nothing waits: the program reads again later.
 *
 * @module
 */

import { type PackState, surveyPacks } from "../cold/pack_survey.ts";
import { describeHours, restoreTimes } from "../cold/restore_times.ts";
import { layout } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import type { RestoreTier, StorageClass } from "../storage/storage.ts";
import type { RepoPricing } from "../workflows/pricing.ts";
import { checkClassOffers, thawPacks } from "../workflows/thaw.ts";
import { Errno } from "./fuse_lowlevel.ts";
import type { ColdPolicy } from "./mount.ts";
import type { Inode } from "./snapshot_fs.ts";

/** The restores `--thaw` requests: `--tier` and `--days`. */
export interface ThawSettings {
  tier: RestoreTier;
  days: number;
}

/**
 * What `--thaw` is billed at, per GB and per 1,000 packs restored (the price table's retrieval
 * of the repository's cold class at `tier`), for the line the mount prints before it mounts.
 * `TierNotOffered` when the class has no such tier.
 */
export function thawPriceText(pricing: RepoPricing, s: ThawSettings): string {
  const cls = pricing.coldClass;
  checkClassOffers(cls, s.tier);
  const price = pricing.table.restore[cls]?.[s.tier];
  const rate = price
    ? `$${price.per_gb.value} per GB and $${price.per_1000.value} per 1,000 packs restored ` +
      `(${cls}, tier ${s.tier})`
    : `no restore price for ${cls} at tier ${s.tier} in the price table`;
  return `${rate}, plus the restored copies' storage for ${s.days} day${s.days === 1 ? "" : "s"}` +
    (pricing.note ? `; ${pricing.note}` : "");
}

/** The cold policy of `--thaw`: request the packs' restore, fail the read with EAGAIN. */
export function thawOnRead(repo: Repository, s: ThawSettings): ColdPolicy {
  /** Requests in flight by file: the kernel's read-ahead fails several reads at once. */
  const inFlight = new Map<number, Promise<{ errno: number; message: string }>>();
  return {
    onCold(file, packs) {
      let asking = inFlight.get(file.ino);
      if (!asking) {
        asking = thaw(repo, s, file, packs).finally(() => inFlight.delete(file.ino));
        inFlight.set(file.ino, asking);
      }
      return asking;
    },
  };
}

async function thaw(
  repo: Repository,
  s: ThawSettings,
  file: Inode,
  packs: string[],
): Promise<{ errno: number; message: string }> {
  const states = await surveyPacks(repo.storage, packs.map((p) => layout.pack(p)));
  const outcome = await thawPacks(repo.storage, states, { tier: s.tier, days: s.days });
  const head = `permafrost mount: "${file.path}" is in cold storage`;
  if (outcome.status === "readable") {
    return {
      errno: Errno.EAGAIN,
      message: `${head}, but its packs are readable now: read it again`,
    };
  }
  const waiting = states.filter((p) =>
    p.availability.state !== "readable" &&
    p.availability.state !== "restored"
  );
  const what = outcome.sent > 0
    ? `requested the restore of ${outcome.sent} ${outcome.sent === 1 ? "pack" : "packs"} ` +
      `(tier ${s.tier}, kept ${s.days} day${s.days === 1 ? "" : "s"})`
    : `its ${waiting.length} ${waiting.length === 1 ? "pack is" : "packs are"} being restored ` +
      "(requested earlier)";
  return {
    errno: Errno.EAGAIN,
    message: `${head}: ${what}; ${readyText(waiting, s.tier)}: read it again then. Until ` +
      "then its reads fail with EAGAIN",
  };
}

/** When the slowest class of `waiting` is documented to finish at `tier`, from now. */
function readyText(waiting: PackState[], tier: RestoreTier): string {
  const classes = [...new Set(waiting.map((p) => p.storageClass))] as StorageClass[];
  const hours = classes.map((c) => restoreTimes[c]?.[tier]).filter((h) => h !== undefined);
  if (hours.length === 0) return "readable once the store has restored them";
  const slowest = hours.reduce((a, b) => (b.max > a.max ? b : a));
  const by = new Date(Date.now() + slowest.max * 3600_000).toISOString().slice(0, 16) + "Z";
  return `${classes.join(" and ")} restores at tier ${tier} finish ${
    describeHours(slowest)
  } (by ${by})`;
}
