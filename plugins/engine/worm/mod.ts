/**
 * Engine `worm` (write once, read many): for archives that must not change (photos, scans,
 * finished projects). The walk is the SDK's; this engine's splitter keeps a file whole, cutting
 * it only every {@link PART_LENGTH} bytes, so two identical files are one blob and an unchanged
 * file (same cached stat) is never read again. Protection (the first stored version of each file
 * is kept, changes and vanished files are reported) is the host's, for every engine
 * (docs/engines.md); this engine only stores.
 *
 * Methods: `backup(sources) -> { nodes, stats, skipped }`; `split(paths) -> number[][]`, the
 * lengths of the pieces `backup` would cut each file into (for `diff --content` and
 * `worm status`): computed from the size alone, no file is read.
 *
 * @module
 */

import fs from "node:fs";
import {
  connectEngineHost,
  LimitSplitter,
  parseEngineConfig,
  refuseUnknownOptions,
  servePlugin,
  walkSources,
} from "../../sdk/mod.ts";

/**
 * The longest piece of a file stored as one blob: 64 MiB. A restore reads a blob's frame whole
 * and a backup holds a piece in memory until it is sent, so this bounds both at a few pieces;
 * most files kept whole (photos, scans, documents) are shorter and stay one blob.
 */
export const PART_LENGTH = 64 << 20;

servePlugin((ctx) => {
  const config = parseEngineConfig(ctx.config);
  refuseUnknownOptions("worm", config.options, []);
  const part = Math.min(PART_LENGTH, config.blobLimit);
  const splitter = () => new LimitSplitter(part);

  return {
    /** Backs up `sources` (absolute paths); returns one node per source, in order. */
    async backup(sources: string[]) {
      const { host, flush } = connectEngineHost(ctx, config);
      const result = await walkSources(host, sources, {
        splitter,
        filter: config.filter,
        excludeIfPresent: config.excludeIfPresent,
        excludeLargerThan: config.excludeLargerThan,
      });
      await flush();
      return result;
    },
    /** For each file (absolute path), the lengths of the pieces `backup` would store. */
    split(paths: string[]): number[][] {
      if (!Array.isArray(paths) || !paths.every((p) => typeof p === "string")) {
        throw new TypeError(`split() needs a list of paths`);
      }
      return paths.map((p) => {
        const lengths: number[] = [];
        for (let left = fs.statSync(p).size; left > 0; left -= part) {
          lengths.push(Math.min(part, left));
        }
        return lengths;
      });
    },
  };
});
