/**
 * Each snapshot's share of the repository's data, for the snapshots page.
 *
 * How it is computed: every data blob a snapshot's files reference counts once per snapshot
 * (by its plaintext length from the index); a blob referenced by `n` snapshots gives each of
 * them `length / n`. A snapshot's share is what it was given over the plaintext bytes of all
 * data blobs that any snapshot references, so the shares add up to 1; its dollars are that
 * share of the repository's recurring monthly bill. Compression, pack overhead and blobs no
 * snapshot references (dead data) are spread in proportion, not measured per snapshot.
 *
 * @module
 */

import type { Repository, SnapshotEntry } from "../repository/repository.ts";
import { walkTree } from "../ops/snapshot_path.ts";

/** The sentence under the numbers, also sent by the API. */
export const SHARE_HOW = "each data blob's plaintext bytes are split equally among the " +
  "snapshots that reference it; a snapshot's share is its part of all referenced data bytes, " +
  "and its dollars that share of the recurring monthly bill";

export interface SnapshotShare {
  /** Plaintext bytes of the distinct data blobs the snapshot references. */
  referencedBytes: number;
  /** Bytes attributed to it: each blob's length divided by the snapshots that reference it. */
  attributedBytes: number;
  /** `attributedBytes` over all referenced data bytes (0 when there is no data). */
  share: number;
}

/** The blob ids each snapshot's files reference, distinct per snapshot. */
export async function referencedBlobs(
  repo: Repository,
  snapshot: SnapshotEntry,
): Promise<Set<string>> {
  const blobs = new Set<string>();
  await walkTree(repo, snapshot.manifest.root, "/", (_path, node) => {
    for (const id of node.content ?? []) blobs.add(id);
  });
  return blobs;
}

/**
 * Shares from the blobs each snapshot references (by snapshot id) and each blob's length;
 * pure, so it is tested without a repository.
 */
export function sharesOf(
  references: Map<string, Set<string>>,
  length: (blob: string) => number,
): Map<string, SnapshotShare> {
  const count = new Map<string, number>();
  for (const blobs of references.values()) {
    for (const b of blobs) count.set(b, (count.get(b) ?? 0) + 1);
  }
  let total = 0;
  for (const b of count.keys()) total += length(b);
  const out = new Map<string, SnapshotShare>();
  for (const [id, blobs] of references) {
    let referencedBytes = 0;
    let attributedBytes = 0;
    for (const b of blobs) {
      referencedBytes += length(b);
      attributedBytes += length(b) / count.get(b)!;
    }
    out.set(id, {
      referencedBytes,
      attributedBytes,
      share: total > 0 ? attributedBytes / total : 0,
    });
  }
  return out;
}

/**
 * {@link sharesOf} for the repository's snapshots (loads the index, walks the trees of every
 * snapshot not in `known`).
 */
export async function snapshotShares(
  repo: Repository,
  snapshots: SnapshotEntry[],
  /** Blobs already walked, by snapshot id (a snapshot's contents never change); filled in. */
  known = new Map<string, Set<string>>(),
): Promise<Map<string, SnapshotShare>> {
  await repo.loadIndex();
  const references = new Map<string, Set<string>>();
  for (const s of snapshots) {
    let blobs = known.get(s.id);
    if (!blobs) known.set(s.id, blobs = await referencedBlobs(repo, s));
    references.set(s.id, blobs);
  }
  return sharesOf(references, (b) => repo.index.get(b)?.length ?? 0);
}
