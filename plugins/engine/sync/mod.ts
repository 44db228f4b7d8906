/**
 * Engine `sync` (local is the truth, mirrored to the store): each file is one plain object
 * under `mirror/<source>/<path>`, readable without Permafrost, in the storage class of the
 * first size rule it matches (docs/engines.md `sync`). The walk is the SDK's; the host reads,
 * hashes and uploads each file (the `mirror` capability: an engine has no storage access), and
 * writes it create-only: a changed file becomes a new object version on a versioned bucket, or
 * a content-addressed object beside (`.versions/<sha256>`). An unchanged file (same cached
 * stat) is not read or uploaded again. Trees are ordinary (docs/format.md §8, version 3).
 *
 * Methods: `backup(sources) -> { nodes, stats, skipped }`. No `split`: a mirrored file is one
 * object, compared by its SHA-256 (`diff --content`).
 *
 * @module
 */

import {
  connectEngineHost,
  LimitSplitter,
  parseEngineConfig,
  servePlugin,
  walkSources,
} from "../../sdk/mod.ts";
import { classFor, syncOptions } from "./options.ts";

servePlugin((ctx) => {
  const config = parseEngineConfig(ctx.config);
  const options = syncOptions(config.options);
  return {
    /** Mirrors `sources` (absolute paths); returns one node per source, in order. */
    async backup(sources: string[]) {
      // Before any upload: the host checks the store's versioning against the option.
      await ctx.capability("mirror").call("open", options.versioned ?? null, options.encrypt);
      const { host, flush } = connectEngineHost(ctx, config);
      const result = await walkSources(host, sources, {
        splitter: () => new LimitSplitter(config.blobLimit), // not used: every file is mirrored
        filter: config.filter,
        excludeIfPresent: config.excludeIfPresent,
        excludeLargerThan: config.excludeLargerThan,
        mirror: (size) => classFor(options.classes, size),
      });
      await flush();
      return result;
    },
  };
});
