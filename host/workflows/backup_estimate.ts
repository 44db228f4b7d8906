/**
 * Backup, priced before it is run (docs/cost-model.md §10.1): a dry run of the backup into the
 * repository writes nothing, and the objects it would have created, plus the snapshot manifest,
 * are priced each in the class the tier predicate gives it. `backup --estimate` prints the
 * result; `backup --budget` holds it to the budget before the real run.
 *
 * A first backup into a repository that does not exist yet compares with a new, empty one:
 * {@link onScratchRepository} makes it in a scratch folder and removes it after.
 *
 * @module
 */

import {
  type BackupEstimate,
  defaultAssumptions,
  estimateBackup as priceWrites,
} from "../cost/mod.ts";
import { estimate, round6 } from "../cost/estimate.ts";
import { usd } from "../cost/format.ts";
import { uploadParts } from "../cost/store_cost.ts";
import { replacedVersionItems } from "../cost/sync_cost.ts";
import { backup, type BackupOptions, type BackupResult } from "../ops/backup.ts";
import type { ConfigOverrides } from "../repository/config.ts";
import { idOf, isMirror, kindOf, layout, tierOf } from "../repository/layout.ts";
import { Repository } from "../repository/repository.ts";
import { encodeSnapshot } from "../repository/snapshot.ts";
import { openStorage } from "../storage/open.ts";
import { onInterrupt } from "../storage/orderly_close.ts";
import type { StorageClass } from "../storage/storage.ts";
import type { RepoPricing } from "./pricing.ts";

/** One kind of object a backup writes, in one class. */
export interface WrittenKind {
  kind: string;
  storage_class: StorageClass;
  objects: number;
  bytes: number;
}

/** A backup's dry run, priced: the estimate, what it would write by kind, and its requests. */
export interface PricedBackup extends BackupEstimate {
  result: BackupResult;
  kinds: WrittenKind[];
  /** PUT-class requests: one PutObject per object, or a multipart upload's parts + 2. */
  requests: number;
  /**
   * A sync run's: the early-deletion fees a later `sync prune` of the versions it replaces
   * would owe (in the total; docs/cost-model.md §10.1a).
   */
  replacedFeeUsd: number;
}

/** The backup `options` describe, run dry into `repo` and priced with `pricing`. */
export async function estimateBackup(
  repo: Repository,
  options: Omit<BackupOptions, "dryRun">,
  pricing: RepoPricing,
): Promise<PricedBackup> {
  const dry = await backup(repo, { ...options, dryRun: true });
  return priceBackup(repo, dry, pricing);
}

/**
 * §10.1 The objects a dry run would have created, plus the snapshot manifest (encoded here to
 * know its size), each in the class the tier predicate gives it, priced.
 */
export function priceBackup(
  repo: Repository,
  result: BackupResult,
  pricing: RepoPricing,
): PricedBackup {
  if (!result.dryRun || result.written === undefined) {
    throw new TypeError("priceBackup prices a dry run's written objects: run the backup dry");
  }
  const snapshot = encodeSnapshot(repo.keys.indexKey, result.manifest);
  const objects = [
    ...result.written,
    // Any valid id: only the kind and the size matter here.
    { name: layout.snapshot("0".repeat(64)), size: snapshot.length },
  ];
  const metaIds = new Set(
    objects.filter((o) => kindOf(o.name) === "meta").map((o) => idOf(o.name)),
  );
  // A mirrored file (`sync`) goes up in the class of its engine's rule, which the dry run kept.
  const classOf = (o: { name: string; storageClass?: StorageClass }): StorageClass =>
    isMirror(o.name)
      ? o.storageClass ?? "STANDARD"
      : tierOf(o.name) === "cold"
      ? pricing.coldClass
      : "STANDARD";
  const kinds = new Map<string, WrittenKind>();
  let requests = 0;
  for (const o of objects) {
    const kind = kindName(o.name, metaIds);
    const storageClass = classOf(o);
    const k = kinds.get(`${kind} ${storageClass}`) ??
      { kind, storage_class: storageClass, objects: 0, bytes: 0 };
    k.objects++;
    k.bytes += o.size;
    kinds.set(`${kind} ${storageClass}`, k);
    const parts = uploadParts(o.size, defaultAssumptions.upload);
    requests += parts === 0 ? 1 : parts + 2;
  }
  const priced = priceWrites(
    objects.map((o) => ({ storageClass: classOf(o), size: o.size })),
    pricing.table,
  );
  // §10.1a A sync run's replaced versions: the early-deletion fees a later prune would owe.
  const replaced = replacedVersionItems(result.mirror?.replaced ?? [], pricing.table);
  const items = [...priced.estimate.items, ...replaced];
  return {
    ...priced,
    estimate: estimate(pricing.table, items, priced.estimate.hours),
    result,
    kinds: [...kinds.values()],
    requests,
    replacedFeeUsd: round6(replaced.reduce((sum, i) => sum + i.usd, 0)),
  };
}

function kindName(name: string, metaIds: Set<string>): string {
  switch (kindOf(name)) {
    case "pack":
      return metaIds.has(idOf(name)) ? "metadata pack, cold copy" : "data pack";
    case "meta":
      return "metadata pack, hot copy";
    case "index":
      return "index segment";
    case "snapshot":
      return "snapshot";
    default:
      return isMirror(name) ? "mirrored file (sync)" : "other";
  }
}

/** A priced backup as plain data (`backup --estimate --json`). */
export function backupEstimateReport(p: PricedBackup, pricing: RepoPricing) {
  const s = p.result.manifest.stats;
  return {
    ...p.estimate,
    monthly_usd: p.monthly_usd,
    plan: {
      files: s.files,
      bytes: s.bytes,
      new_blobs: s.newBlobs,
      new_bytes: s.newBytes,
      stored_bytes: s.storedBytes,
      objects: p.kinds,
      put_requests: p.requests,
      ...(p.result.mirror ? { replaced_versions: p.result.mirror.replaced?.length ?? 0 } : {}),
    },
    notes: [
      ...backupEstimateNotes(pricing),
      ...(p.result.mirror ? [replacedNote(p)] : []),
    ],
  };
}

/** What a sync backup's estimate says of the versions it replaces (§10.1a). */
export function replacedNote(p: PricedBackup): string {
  const n = p.result.mirror?.replaced?.length ?? 0;
  return `the total includes ${usd(p.replacedFeeUsd)} of early-deletion fees a later ` +
    `\`sync prune\` of the ${n} version${n === 1 ? "" : "s"} this run replaces would owe if ` +
    "it ran now (each class's minimum storage duration less the version's age)";
}

/** What every backup estimate says under it. */
export function backupEstimateNotes(pricing: RepoPricing): string[] {
  return [
    "the estimate read and chunked the source files (a dry run); nothing was written",
    ...(pricing.note ? [pricing.note] : []),
  ];
}

/**
 * Runs `fn` on a new repository with the settings `config` gives, in a scratch folder removed
 * after (also when the process is stopped by a signal, which waits for the removal): what a
 * first backup into a repository that does not exist yet compares with.
 */
export async function onScratchRepository<T>(
  config: ConfigOverrides,
  fn: (repo: Repository) => Promise<T>,
  /** The folder to make the scratch repository in (default: the system's temporary folder). */
  parent?: string,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "permafrost-scratch-", dir: parent });
  // A signal exits without waiting for the `finally` below: it waits for the same removal.
  let removal: Promise<void> | undefined;
  const remove = () => removal ??= Deno.remove(dir, { recursive: true });
  const unregister = onInterrupt(remove);
  try {
    const storage = await openStorage(dir, "admin", { create: true });
    try {
      // Nobody opens it again: the cheapest key derivation the format accepts will do.
      const repo = await Repository.init(storage, crypto.randomUUID(), {
        config,
        kdf: { opslimit: 1, memlimit: 8 << 10 },
      });
      return await fn(repo);
    } finally {
      await storage.close();
    }
  } finally {
    await remove();
    unregister();
  }
}
