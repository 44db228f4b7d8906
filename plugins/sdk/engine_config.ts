/**
 * Checking the config an engine is started with (`EngineConfig`, docs/plugins.md §5.3). An
 * engine calls {@link parseEngineConfig} in its setup, so a host that sends something else
 * stops the engine at start-up, with a `TypeError` naming the field, instead of mid-walk.
 *
 * @module
 */

import type { EngineConfig } from "./engine_types.ts";

/** `config` checked as an {@link EngineConfig}; `TypeError` naming the first bad field. */
export function parseEngineConfig(config: unknown): EngineConfig {
  if (!isRecord(config)) throw new TypeError("engine config must be an object");
  const c = config;
  const gear = c.gear;
  if (
    !Array.isArray(gear) || gear.length !== 256 ||
    !gear.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffffffff)
  ) {
    throw new TypeError(`engine config "gear" must be 256 unsigned 32-bit integers`);
  }
  const chunker = c.chunker;
  if (!isRecord(chunker) || !["min", "avg", "max"].every((k) => positive(chunker[k]))) {
    throw new TypeError(`engine config "chunker" must be { min, avg, max }, positive integers`);
  }
  if (!positive(c.blobLimit)) {
    throw new TypeError(`engine config "blobLimit" must be a positive integer`);
  }
  if (typeof c.filter !== "boolean") {
    throw new TypeError(`engine config "filter" must be true or false`);
  }
  const tags = c.excludeIfPresent;
  if (
    !Array.isArray(tags) ||
    !tags.every((t) =>
      typeof t === "string" && t !== "" && t !== "." && t !== ".." && !t.includes("/")
    )
  ) {
    throw new TypeError(`engine config "excludeIfPresent" must be a list of file names`);
  }
  const larger = c.excludeLargerThan;
  if (larger !== undefined && !(Number.isSafeInteger(larger) && (larger as number) >= 0)) {
    throw new TypeError(`engine config "excludeLargerThan" must be a whole number of bytes`);
  }
  if (!isRecord(c.options)) throw new TypeError(`engine config "options" must be an object`);
  return {
    gear: gear as number[],
    chunker: { min: chunker.min as number, avg: chunker.avg as number, max: chunker.max as number },
    blobLimit: c.blobLimit as number,
    filter: c.filter,
    excludeIfPresent: tags as string[],
    ...(larger === undefined ? {} : { excludeLargerThan: larger as number }),
    options: c.options,
  };
}

/**
 * Refuses any key of an engine's `options` (the source's `engine_config`) outside `known`, with
 * a `TypeError` naming the key and the engine: what the user wrote must not be silently ignored.
 */
export function refuseUnknownOptions(
  engine: string,
  options: Record<string, unknown>,
  known: readonly string[],
): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const takes = known.length === 0
      ? "takes no engine_config"
      : `takes only ${known.map((k) => `"${k}"`).join(", ")}`;
    throw new TypeError(`engine "${engine}" ${takes}: unknown key "${key}" in engine_config`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) &&
    !(v instanceof Uint8Array);
}

function positive(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) > 0;
}
