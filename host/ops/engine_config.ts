/**
 * The config the host starts every engine with (docs/plugins.md §5.3; its shape is the SDK's
 * `EngineConfig`): the same for a backup and for `diff --content`, so an engine cuts a file the
 * same way in both.
 *
 * @module
 */

import type { EngineConfig } from "../../plugins/sdk/engine_types.ts";
import { gearTable } from "../crypto/gear.ts";
import { MAX_BLOB_LENGTH } from "../repository/pack.ts";
import type { Repository } from "../repository/repository.ts";

/** What a run adds to the repository's part of the config. */
export interface EngineRunConfig {
  /** Whether the `filter` capability is offered. */
  filter?: boolean;
  excludeIfPresent?: string[];
  excludeLargerThan?: number;
  /** The engine's own options (a source's `engine_config`). */
  options?: Record<string, unknown>;
}

/**
 * The engine config for `repo`: its chunker parameters and keyed gear table (docs/format.md
 * §3.6, §5), the largest blob a pack takes (§6), and what `run` adds.
 */
export function engineConfig(repo: Repository, run: EngineRunConfig = {}): EngineConfig {
  const { chunker } = repo.config;
  return {
    gear: Array.from(gearTable(repo.keys.chunkerKey)),
    chunker: { min: chunker.min, avg: chunker.avg, max: chunker.max },
    blobLimit: MAX_BLOB_LENGTH,
    filter: run.filter ?? false,
    excludeIfPresent: run.excludeIfPresent ?? [],
    ...(run.excludeLargerThan === undefined ? {} : { excludeLargerThan: run.excludeLargerThan }),
    options: run.options ?? {},
  };
}
