/**
 * The plugin SDK: the only module a plugin imports. A plugin's entry module calls
 * {@link servePlugin} once with a setup function returning its methods; it reaches host
 * capabilities through `ctx.capability(name)`, an {@link RpcClient}. Errors that cross the
 * boundary keep their class (see `errors.ts`). An engine finds here the messages it exchanges
 * with the host (`engine_types.ts`), its config (`parseEngineConfig`), its capabilities bound
 * and batched (`connectEngineHost`), and the walk every engine may share (`Walker`, with the
 * engine's {@link Splitter}). docs/plugins.md is the full contract.
 *
 * @example
 * ```ts
 * import { servePlugin } from "../../sdk/mod.ts";
 * servePlugin((ctx) => ({ hello: (who: string) => `hello ${who}` }));
 * ```
 *
 * @module
 */

export type { MirrorRef, TreeNode } from "./tree_node.ts";
export { compareNames } from "./names.ts";
export { parseSize, readSize, SIZE_UNITS } from "./size.ts";
export type {
  CacheHit,
  CacheQuery,
  CacheRecord,
  DirMark,
  EngineBackupResult,
  EngineConfig,
  EngineHost,
  MirrorPut,
  Skipped,
  SourceNode,
  WalkStats,
} from "./engine_types.ts";
export { parseEngineConfig, refuseUnknownOptions } from "./engine_config.ts";
export { connectEngineHost } from "./engine_host.ts";
export { Walker, type WalkOptions, walkSources } from "./walker.ts";
export { chunkLengths, limitLengths, LimitSplitter, READ_SIZE, type Splitter } from "./splitter.ts";
export { type WalkingEngine, walkingEngine } from "./walking_engine.ts";
export {
  CACHEDIR_SIGNATURE,
  CACHEDIR_TAG,
  excludingTag,
  isCacheDirTag,
  tooLarge,
} from "./walk_rules.ts";
export { lstat, Stat } from "./stat.ts";
export {
  MAX_IGNORE_FILE,
  readGitignore,
  readInfoExclude,
  workTreeCommonDir,
  type WorktreeRules,
} from "./gitignore_files.ts";
export type {
  Manifest,
  ManifestPermissions,
  PermissionName,
  PermissionValue,
  PluginKind,
} from "./manifest.ts";
export { permissionNames, pluginKinds } from "./manifest.ts";
export { API_VERSION, PROTOCOL_VERSION } from "./protocol.ts";
export { RpcClient, type ServeOptions, serveRpc } from "./rpc.ts";
// servePlugin, the storage types and the upload plans: what a storage plugin imports.
export * from "./storage.ts";
