/**
 * Index entries for tests: a data pack by name and blob ids, without writing any pack.
 *
 * @module
 */

import type { IndexedPack } from "../../host/repository/index_segment.ts";

/** A data pack `name` (padded to an id) holding `ids`, one 100-byte blob per 1000-byte frame. */
export function fakePack(name: string, ids: string[]): IndexedPack {
  return {
    pack: name.padEnd(64, "0"),
    metadata: false,
    length: 1000 * ids.length,
    blobs: ids.map((id, i) => ({
      id,
      type: "data" as const,
      frameOffset: 1000 * i,
      frameLength: 1000,
      offsetInFrame: 0,
      length: 100,
    })),
  };
}
