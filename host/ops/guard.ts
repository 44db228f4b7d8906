/**
 * The versioned-bucket guard (docs/s3.md §5 "The guard"): on a bucket with versioning, a
 * create-only repository never has a second version of a key, nor a delete marker, except
 * where someone overwrote or deleted what they should not have. The guard finds every such key
 * under the repository's prefix and brings back its oldest version, which is the one the
 * repository wrote. A plan, then an execute.
 *
 * How it undoes: by deleting the newer versions and delete markers (`DeleteObject` with a
 * `VersionId`), so the oldest version is current again, byte for byte, with its storage class
 * and metadata. Not by copying the oldest version over as a new one: a copy of an archived
 * (`DEEP_ARCHIVE`, `GLACIER`) version fails until it is restored, a copy would start a new
 * minimum storage duration and be billed as one more version, and the overwriting bytes would
 * stay in the bucket. The cost of deleting is that what the newer versions held is gone: the
 * report lists each version id removed, for the record.
 *
 * Keys under `mirror/` are left alone (`mirrorKeys`): a `sync` backup on a versioned bucket
 * writes a changed file as a new version of its key by design, and its snapshots name each
 * version by id (docs/format.md §2 "Mirrors", host/ops/mirror_sink.ts), so those versions are
 * the backup's data, and an overwrite or delete there hides nothing a restore needs. Removing
 * the newer versions would destroy the latest mirrored files for good.
 *
 * Keys with delete markers only (no version holding bytes: a delete of a key that never
 * existed, like the admin's `gc-probe/` credential check) have nothing to restore and are
 * left alone. Needs `s3:ListBucketVersions` and `s3:DeleteObjectVersion` (the admin policy
 * with `--versioned`).
 *
 * @module
 */

import {
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  type S3Client,
} from "@aws-sdk/client-s3";
import { isMirror } from "../repository/layout.ts";

/** One version or delete marker of a key. */
export interface VersionEntry {
  versionId: string;
  deleteMarker: boolean;
  /** ISO time. */
  lastModified: string;
  /** Bytes (0 for a delete marker). */
  size: number;
}

/** A key the guard changes back: the version it keeps, and those it removes (newest first). */
export interface GuardChange {
  key: string;
  /** What happened to it: a newer version replaced it, a delete marker hid it, or both. */
  kind: "overwritten" | "deleted" | "overwritten and deleted";
  keep: VersionEntry;
  remove: VersionEntry[];
}

/** What one run finds. */
export interface GuardPlan {
  bucket: string;
  keyPrefix: string;
  /** `ListObjectVersions` requests made. */
  listPages: number;
  /** Versions and delete markers listed under the prefix. */
  versions: number;
  changes: GuardChange[];
  /** Keys with delete markers only: nothing to restore. */
  markersOnly: string[];
  /** Keys under `mirror/` with more than one version or a marker: sync's own, left alone. */
  mirrorKeys: string[];
}

/** Lists every version under the prefix and plans what to undo. */
export async function planGuard(
  client: S3Client,
  where: { bucket: string; keyPrefix: string },
): Promise<GuardPlan> {
  const byKey = new Map<string, VersionEntry[]>();
  let listPages = 0;
  let versions = 0;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page: ListObjectVersionsCommandOutput = await client.send(
      new ListObjectVersionsCommand({
        Bucket: where.bucket,
        Prefix: where.keyPrefix,
        KeyMarker: keyMarker,
        VersionIdMarker: versionIdMarker,
      }),
    );
    listPages++;
    const entries = [
      ...(page.Versions ?? []).map((v) => ({ v, deleteMarker: false, size: v.Size ?? 0 })),
      ...(page.DeleteMarkers ?? []).map((v) => ({ v, deleteMarker: true, size: 0 })),
    ];
    for (const { v, deleteMarker, size } of entries) {
      if (v.Key === undefined || v.VersionId === undefined) continue;
      versions++;
      const list = byKey.get(v.Key) ?? [];
      list.push({
        versionId: v.VersionId,
        deleteMarker,
        lastModified: (v.LastModified ?? new Date(0)).toISOString(),
        size,
      });
      byKey.set(v.Key, list);
    }
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
  const changes: GuardChange[] = [];
  const markersOnly: string[] = [];
  const mirrorKeys: string[] = [];
  for (const [key, entries] of [...byKey].sort(([a], [b]) => a < b ? -1 : 1)) {
    if (entries.length === 1 && !entries[0].deleteMarker) continue;
    if (isMirror(key.slice(where.keyPrefix.length))) {
      mirrorKeys.push(key);
      continue;
    }
    const ordered = newestFirst(entries);
    const oldest = ordered.findLastIndex((e) => !e.deleteMarker);
    if (oldest < 0) {
      markersOnly.push(key);
      continue;
    }
    const remove = ordered.slice(0, oldest);
    if (remove.length === 0) continue; // only markers older than the version: nothing hides it
    const overwritten = remove.some((e) => !e.deleteMarker);
    const deleted = remove.some((e) => e.deleteMarker);
    changes.push({
      key,
      kind: overwritten && deleted
        ? "overwritten and deleted"
        : overwritten
        ? "overwritten"
        : "deleted",
      keep: ordered[oldest],
      remove,
    });
  }
  return { ...where, listPages, versions, changes, markersOnly, mirrorKeys };
}

/**
 * Versions newest first: by time, and within one second (S3's times have whole seconds in
 * listings) in the order S3 listed them, which is newest first within a key.
 */
function newestFirst(entries: VersionEntry[]): VersionEntry[] {
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) =>
      a.e.lastModified === b.e.lastModified
        ? (a.e.deleteMarker === b.e.deleteMarker ? a.i - b.i : a.e.deleteMarker ? -1 : 1)
        : a.e.lastModified > b.e.lastModified
        ? -1
        : 1
    )
    .map(({ e }) => e);
}

/** What one key's undo came to. */
export interface GuardOutcome {
  key: string;
  removed: string[];
  /** Why it could not be undone completely (S3's refusal), if it could not. */
  error?: string;
}

/**
 * Deletes each change's newer versions and markers, newest first; a failure (a locked
 * version, a missing permission) is reported for its key and the others go on. Running the
 * guard again finishes what an interrupted run left.
 */
export async function executeGuard(client: S3Client, plan: GuardPlan): Promise<GuardOutcome[]> {
  const out: GuardOutcome[] = [];
  for (const change of plan.changes) {
    const removed: string[] = [];
    try {
      for (const entry of change.remove) {
        await client.send(
          new DeleteObjectCommand({
            Bucket: plan.bucket,
            Key: change.key,
            VersionId: entry.versionId,
          }),
        );
        removed.push(entry.versionId);
      }
      out.push({ key: change.key, removed });
    } catch (e) {
      const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      out.push({ key: change.key, removed, error: why });
    }
  }
  return out;
}
