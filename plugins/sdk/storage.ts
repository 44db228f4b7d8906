/**
 * The part of the SDK a storage plugin uses: {@link servePlugin}, {@link release}, the errors
 * that keep their class across the boundary, the storage types and the upload plans. `mod.ts`
 * re-exports all of it. The built-in storage plugins import this module instead of `mod.ts` so
 * that their worker does not load the walker, splitter and engine host (and Node's `fs`), which
 * a store never uses: a storage worker starts on every command that opens a repository
 * (docs/bench.md "Start-up (issue #16)").
 *
 * @module
 */

export * from "./errors.ts";
export { release } from "./bytes.ts";
export { type PluginContext, type PluginMethods, servePlugin } from "./plugin.ts";
export {
  archiveClasses,
  type Availability,
  type ByteRange,
  type CreateOptions,
  labelPattern,
  type ObjectInfo,
  type ObjectStat,
  type RestoreOptions,
  type RestoreTier,
  restoreTiers,
  type StorageClass,
  storageClasses,
  type Stray,
  type VersionInfo,
  type Versioning,
} from "./storage_types.ts";
export {
  defaultUploadRule,
  s3UploadLimits,
  type UploadPlan,
  uploadPlan,
  type UploadRule,
} from "./upload_plan.ts";
