/**
 * The configuration file, `permafrost.toml`: the repository and the sources that `permafrost
 * backup` with no path backs up, each with its engine, filters, never-change globs and tags.
 * docs/config.md describes the file, where it is looked for, every field and the errors.
 *
 * ```ts
 * const config = await loadConfig({ config: flags.config, engines: ["dedup", "worm", "sync"] });
 * for (const source of pickSources(config, flags.source ?? [])) { ... }
 * ```
 *
 * @module
 */

export {
  checkEngines,
  type Config,
  loadConfig,
  loadConfigSync,
  type LoadOptions,
  parseConfig,
  pickSources,
} from "./load_config.ts";
export { type SourceConfig, type SourceField, sourceFields } from "./source_config.ts";
export { ConfigError } from "./config_error.ts";
export { type ConfigLocation, configLocation, type Env, expandHome } from "./config_location.ts";
