/**
 * What the engines' `mod_test.ts` files share: a start-up config (a plain gear table, small
 * chunks, no blob limit to speak of, no filter) and starting an engine in its sandbox on one
 * source folder, as the host would.
 *
 * @module
 */

import { type PluginHandle, startPlugin } from "../../host/plugin/sandbox.ts";

/** The start-up config the host gives an engine. */
export interface TestEngineConfig {
  gear: number[];
  chunker: { min: number; avg: number; max: number };
  blobLimit: number;
  filter: boolean;
  excludeIfPresent: string[];
  /** The source's `engine_config`. */
  options: Record<string, unknown>;
}

/** The config an engine's tests start it with, before their own changes. */
export const testEngineConfig: TestEngineConfig = {
  gear: Array.from({ length: 256 }, (_, i) => i),
  chunker: { min: 1024, avg: 4096, max: 16384 },
  blobLimit: 1 << 30,
  filter: false,
  excludeIfPresent: [],
  options: {},
};

/** Starts engine `name` with `source` as its one source and {@link testEngineConfig} + `config`. */
export function startEngine(
  name: string,
  source: string,
  config: Partial<TestEngineConfig> = {},
): Promise<PluginHandle> {
  return startPlugin({
    kind: "engine",
    name,
    vars: { $sources: [source] },
    config: { ...testEngineConfig, ...config },
  });
}
