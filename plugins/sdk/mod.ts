/**
 * The plugin SDK: the only module a plugin imports. A plugin's entry module calls
 * {@link servePlugin} once with a setup function returning its methods; it reaches host
 * capabilities through `ctx.capability(name)`, an {@link RpcClient}. Errors that cross the
 * boundary keep their class (see `errors.ts`). docs/plugins.md is the full contract.
 *
 * @example
 * ```ts
 * import { servePlugin } from "../../sdk/mod.ts";
 * servePlugin((ctx) => ({ hello: (who: string) => `hello ${who}` }));
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export { release } from "./bytes.ts";
export type { TreeNode } from "./tree_node.ts";
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
} from "./storage_types.ts";
