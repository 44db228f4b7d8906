/**
 * Engine `vm-delta`: for VM disk images and other large files written in place (databases,
 * file-system images). Every file is cut into fixed-size blocks at fixed offsets (default
 * {@link DEFAULT_BLOCK}, the `block` option of `engine_config`); each block is a blob keyed like
 * every blob (docs/format.md §3.1), so a block the guest did not write since the last backup
 * has the id it had then and the host stores nothing for it, without reading anything back from
 * the repository. A block of zeros is one blob, stored once per repository; a restore writes
 * only the non-zero 4 KiB blocks of the file it creates, so the holes of a sparse image come
 * back as holes (docs/format.md §8, "Sparse files"). Every snapshot holds the complete block
 * list of each file: a restore of any version reads only that version's blocks, with no chain
 * of deltas to replay (docs/delta-vs-dedup.md measures why this beats a signature delta).
 *
 * The walk is the SDK's (`walkingEngine`): an image whose size, times and inode are unchanged is
 * taken from the file cache (its table `files-vm-delta`) without being read.
 *
 * Methods: `backup(sources) -> { nodes, stats, skipped }`; `split(paths) -> number[][]`,
 * computed from the size alone (no file is read).
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
 * The default block: 64 KiB. Measured on an ext4 image churned over 30 versions
 * (docs/delta-vs-dedup.md): 1 MiB blocks stored far more for the same small writes, and 4 KiB
 * blocks would make sixteen times the blobs (index entries, ids in trees) for little less data.
 */
export const DEFAULT_BLOCK = 64 << 10;
/** Blocks are whole multiples of the 4 KiB a file system writes and a restore leaves as a hole. */
export const MIN_BLOCK = 4 << 10;
/** The largest block: each is held whole in memory by a backup and a restore. */
export const MAX_BLOCK = 16 << 20;

/** The block size `engine_config` asks for: a power of two from 4 KiB to 16 MiB. */
export function blockOption(options: Record<string, unknown>, blobLimit: number): number {
  const block = options.block ?? DEFAULT_BLOCK;
  if (
    typeof block !== "number" || !Number.isSafeInteger(block) || block < MIN_BLOCK ||
    block > MAX_BLOCK || (block & (block - 1)) !== 0
  ) {
    throw new RangeError(
      `engine "vm-delta": engine_config "block" must be a power of two number of bytes from ` +
        `${MIN_BLOCK} to ${MAX_BLOCK} (e.g. 65536), not ${JSON.stringify(block)}`,
    );
  }
  if (block > blobLimit) {
    throw new RangeError(`engine "vm-delta": block ${block} is over the blob limit ${blobLimit}`);
  }
  return block;
}

servePlugin((ctx) => {
  const config = parseEngineConfig(ctx.config);
  refuseUnknownOptions("vm-delta", config.options, ["block"]);
  const block = blockOption(config.options, config.blobLimit);
  return walkingEngine(ctx, config, {
    splitter: () => new LimitSplitter(block),
    lengths: (paths) => limitLengths(paths, block), // from the size alone: no file is read
  });
});
