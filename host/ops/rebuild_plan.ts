/**
 * The plan of `rebuild` (docs/format.md §10 "Recovery from packs alone"): which cold packs hold
 * metadata, found without restoring any. One `list` of `packs/` and one `stat` per pack; a
 * pack's kind comes from its storage label ("meta"/"data", docs/format.md §2), else, when it
 * is readable, from its 88-byte header (§6.1), else it is unknown and must be restored to be
 * told apart. Nothing is requested or written here.
 *
 * @module
 */

import { isReadable, type PackState } from "../cold/pack_survey.ts";
import { idOf, kindOf, layout } from "../repository/layout.ts";
import { PACK_HEADER_LENGTH, packHeader } from "../repository/pack.ts";
import type { Repository } from "../repository/repository.ts";

/** How many `stat` calls and header reads are in flight at once. */
const CONCURRENCY = 16;

/** What a pack holds, as far as the plan can tell without restoring it. */
export type PackKind = "meta" | "data" | "unknown";

/** One cold pack: its survey state, its kind, and how the kind is known. */
export interface RebuildPack extends PackState {
  id: string;
  kind: PackKind;
  /** `label`: the storage label; `header`: its first 88 bytes; `none`: not known yet. */
  by: "label" | "header" | "none";
}

/** Packs and bytes. */
export interface Count {
  packs: number;
  bytes: number;
}

/** The plan: every pack of the cold tier, classified. */
export interface RebuildPlan {
  packs: RebuildPack[];
  metadata: Count;
  data: Count;
  /** Archived packs without a label: restored with the metadata packs, to read their headers. */
  unknown: Count;
  /** The packs the first step restores and reads: metadata packs and unknown ones. */
  first: RebuildPack[];
  /** Of `first`, those not readable yet (archived or being restored). */
  thawing: Count;
  /** Names under `packs/` that are not packs (ignored). */
  ignored: string[];
}

/** Surveys and classifies every pack under `packs/`. */
export async function planRebuild(repo: Repository): Promise<RebuildPlan> {
  const listed = await repo.storage.list(layout.prefixes.pack);
  const ignored = listed.filter((o) => kindOf(o.name) !== "pack").map((o) => o.name);
  const names = listed.filter((o) => kindOf(o.name) === "pack").map((o) => o.name).sort();
  const packs: RebuildPack[] = new Array(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const i = next++;
      packs[i] = await classify(repo, names[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, names.length) }, worker));
  const found = packs.filter((p) => p !== undefined);
  const first = found.filter((p) => p.kind !== "data");
  return {
    packs: found,
    metadata: count(found.filter((p) => p.kind === "meta")),
    data: count(found.filter((p) => p.kind === "data")),
    unknown: count(found.filter((p) => p.kind === "unknown")),
    first,
    thawing: count(first.filter((p) => !isReadable(p))),
    ignored,
  };
}

/** Packs and bytes of `packs`. */
export function count(packs: readonly PackState[]): Count {
  return { packs: packs.length, bytes: packs.reduce((n, p) => n + p.bytes, 0) };
}

async function classify(repo: Repository, name: string): Promise<RebuildPack> {
  const stat = await repo.storage.stat(name);
  const state: PackState = {
    name,
    bytes: stat?.size ?? 0,
    storageClass: stat?.storageClass ?? "STANDARD",
    availability: stat?.availability ?? { state: "readable" },
  };
  const id = idOf(name);
  if (stat?.label === "meta" || stat?.label === "data") {
    return { ...state, id, kind: stat.label, by: "label" };
  }
  if (stat !== null && isReadable(state) && stat.size >= PACK_HEADER_LENGTH) {
    try {
      const header = await repo.storage.read(name, { offset: 0, length: PACK_HEADER_LENGTH });
      return { ...state, id, kind: packHeader(header).metadata ? "meta" : "data", by: "header" };
    } catch (err) {
      // A damaged header: the pack is read whole with the metadata packs, which reports it.
      if (!(err instanceof Error && err.name === "FormatError")) throw err;
    }
  }
  return { ...state, id, kind: "unknown", by: "none" };
}
