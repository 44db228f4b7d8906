/**
 * The plugin manifest (`plugins/<kind>/<name>/plugin.json`), as the host validates it and as the
 * plugin receives it in its `init` message. docs/plugins.md §2 describes every field.
 *
 * @module
 */

/** The kinds of plugin the host knows (docs/plugins.md §1). */
export const pluginKinds = ["engine", "filter", "storage"] as const;

/** One of {@link pluginKinds}. */
export type PluginKind = typeof pluginKinds[number];

/** The permission names a manifest may list; anything not listed is denied. */
export const permissionNames = ["read", "write", "net", "env", "sys", "run", "ffi"] as const;

/** One of {@link permissionNames}. */
export type PermissionName = typeof permissionNames[number];

/**
 * One permission: `false` (none), `true` (all of that kind) or a list of entries. Entries of
 * `read`/`write` are absolute paths or `$name` placeholders; `net` entries are `host[:port]` or
 * placeholders; `env`, `sys`, `run`, `ffi` entries are names (or placeholders).
 */
export type PermissionValue = boolean | string[];

/** The permissions a plugin asks for. A missing field means `false`. */
export type ManifestPermissions = Partial<Record<PermissionName, PermissionValue>>;

/**
 * A validated manifest. Contract: `api` is 1; `entry` is a relative path inside the plugin
 * folder; `methods` lists exactly the methods the plugin serves (the host refuses others);
 * `capabilities` lists the host capabilities the plugin may be handed (the host hands over only
 * those it also offers).
 */
export interface Manifest {
  name: string;
  kind: PluginKind;
  api: 1;
  entry: string;
  description: string;
  permissions: ManifestPermissions;
  capabilities: string[];
  methods: string[];
}
