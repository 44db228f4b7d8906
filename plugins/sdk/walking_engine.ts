/**
 * The methods of an engine whose walk is the SDK's (docs/plugins.md §5.3): `backup`, which
 * walks the sources with the engine's splitter through the host's capabilities, and `split`,
 * the lengths of the pieces `backup` would cut each file into (for `diff --content` and `worm
 * status`). An engine gives only what is its own: the splitter and how to measure a file.
 *
 * @module
 */

import { connectEngineHost } from "./engine_host.ts";
import type { EngineConfig } from "./engine_types.ts";
import type { PluginContext } from "./plugin.ts";
import type { Splitter } from "./splitter.ts";
import { walkSources } from "./walker.ts";

/** What an engine on the SDK's walk supplies. */
export interface WalkingEngine {
  /** A new splitter for one file. */
  splitter: () => Splitter;
  /** For each file (absolute path), the lengths of the pieces `backup` would store. */
  lengths: (paths: string[]) => number[][];
}

/** The `backup` and `split` methods of an engine on the SDK's walk. */
export function walkingEngine(ctx: PluginContext, config: EngineConfig, engine: WalkingEngine) {
  return {
    /** Backs up `sources` (absolute paths); returns one node per source, in order. */
    async backup(sources: string[]) {
      const { host, flush } = connectEngineHost(ctx, config);
      const result = await walkSources(host, sources, {
        splitter: engine.splitter,
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
      return engine.lengths(paths);
    },
  };
}
