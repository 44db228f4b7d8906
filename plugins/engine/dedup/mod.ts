/**
 * Engine `dedup`: content-defined chunking (FastCDC) of every file, with the host deduplicating
 * by keyed chunk id. Runs in a worker that may read only its source paths and reach nothing else
 * (plugin.json). The walk is the SDK's; this engine gives it its splitter, a {@link Chunker}
 * with the repository's parameters and gear table (docs/plugins.md §5.3, §6.6).
 *
 * Methods: `backup(sources) -> { nodes, stats, skipped }`; `split(paths) -> number[][]`, the
 * lengths of the chunks `backup` would cut each file into (for `diff --content`).
 *
 * @module
 */

import {
  chunkLengths,
  parseEngineConfig,
  READ_SIZE,
  refuseUnknownOptions,
  servePlugin,
  walkingEngine,
} from "../../sdk/mod.ts";
import { Chunker } from "./fastcdc.ts";

servePlugin((ctx) => {
  const config = parseEngineConfig(ctx.config);
  refuseUnknownOptions("dedup", config.options, []);
  const gear = Uint32Array.from(config.gear);
  const params = config.chunker;
  new Chunker(gear, params); // a RangeError now, at start-up, for parameters it cannot use
  if (params.max > config.blobLimit) {
    throw new RangeError(
      `engine "dedup": chunker max ${params.max} is over the blob limit ${config.blobLimit}`,
    );
  }
  const splitter = () => new Chunker(gear, params);
  return walkingEngine(ctx, config, {
    splitter,
    lengths: (paths) => {
      const buffer = new Uint8Array(READ_SIZE);
      return paths.map((p) => chunkLengths(p, splitter(), buffer));
    },
  });
});
