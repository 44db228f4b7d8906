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

import {
  limitLengths,
  LimitSplitter,
  parseEngineConfig,
  refuseUnknownOptions,
  servePlugin,
  walkingEngine,
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
  return walkingEngine(ctx, config, {
    splitter: () => new LimitSplitter(part),
    lengths: (paths) => limitLengths(paths, part), // from the size alone: no file is read
  });
});
