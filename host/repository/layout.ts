/**
 * The only module that knows object names (docs/format.md §2 "Layout").
 *
 * | object            | name              | tier |
 * |-------------------|-------------------|------|
 * | config            | `config`          | hot  |
 * | key file          | `keys/<id>`       | hot  |
 * | index segment     | `index/<id>`      | hot  |
 * | snapshot manifest | `snapshots/<id>`  | hot  |
 * | pack (data, meta) | `packs/<id>`      | cold |
 * | hot copy of a metadata pack | `meta/<id>` | hot |
 * | mirrored file (`sync`) | `mirror/<source>/<path>` | its rule's class |
 *
 * `<id>` is 64 lowercase hex digits. Every pack, data or metadata, lives under `packs/`, so the
 * cold tier alone is a complete repository; metadata packs also get a hot copy under `meta/`.
 *
 * @module
 */

export type Tier = "hot" | "cold";

export type ObjectKind = "config" | "key" | "index" | "snapshot" | "pack" | "meta";

const ID = /^[0-9a-f]{64}$/;

export const layout = {
  config: () => "config",
  key: (id: string) => named("keys/", id),
  index: (id: string) => named("index/", id),
  snapshot: (id: string) => named("snapshots/", id),
  pack: (id: string) => named("packs/", id),
  metaCopy: (id: string) => named("meta/", id),
  /** A mirrored file of source `source` (a base name) at `rel` (`/`-separated, relative). */
  mirror: (source: string, rel: string) => `${mirrorSource(source)}${rel}`,
  /** A changed file's new content on a store without versions (content-addressed). */
  mirrorVersion: (source: string, sha256: string) =>
    named(`${mirrorSource(source)}${MIRROR_VERSIONS}`, sha256),
  /** A sync snapshot's readable manifest: `time` is ISO 8601 UTC, `id` the snapshot id. */
  mirrorManifest: (source: string, time: string, id: string) =>
    `${mirrorSource(source)}${MIRROR_MANIFESTS}manifest-${
      time.replace(/[:.]/g, "").replace(/-/g, "")
    }-${id.slice(0, 12)}.json`,
  /** Where the readable manifests of `source` are. */
  mirrorManifests: (source: string) => `${mirrorSource(source)}${MIRROR_MANIFESTS}`,
  prefixes: {
    mirror: "mirror/",
    key: "keys/",
    index: "index/",
    snapshot: "snapshots/",
    pack: "packs/",
    meta: "meta/",
  },
} as const;

/** Under a source's mirror prefix: changed files' content-addressed copies, and manifests. */
export const MIRROR_VERSIONS = ".versions/";
export const MIRROR_MANIFESTS = ".permafrost/";

/** `mirror/<source>/`, for a source name that is one path component. */
function mirrorSource(source: string): string {
  if (
    source === "" || source === "." || source === ".." || /[/\\\0]/.test(source) ||
    source.startsWith(".")
  ) {
    throw new TypeError(
      `"${source}" cannot name a mirror: it must be a folder name not starting with "."`,
    );
  }
  return `mirror/${source}/`;
}

/**
 * Whether `name` is a readable manifest, `mirror/<source>/.permafrost/manifest-<...>.json`, as
 * {@link layout}.mirrorManifest names them (UTC time to the millisecond, snapshot id prefix): a
 * `.permafrost` folder anywhere else is a user's.
 */
export function isMirrorManifest(name: string): boolean {
  return MIRROR_MANIFEST.test(name);
}

const MIRROR_MANIFEST =
  /^mirror\/[^/.][^/]*\/\.permafrost\/manifest-\d{8}T\d{9}Z-[0-9a-f]{12}\.json$/;

/** Whether `name` is a mirrored file's object (docs/format.md §2): under `mirror/`. */
export function isMirror(name: string): boolean {
  return name.startsWith("mirror/");
}

function named(prefix: string, id: string): string {
  if (!ID.test(id)) throw new TypeError(`object id "${id}" is not 64 lowercase hex digits`);
  return prefix + id;
}

/** The kind of object a name denotes, or `undefined` for a name outside the layout. */
export function kindOf(name: string): ObjectKind | undefined {
  if (name === "config") return "config";
  const slash = name.indexOf("/");
  if (slash < 0 || !ID.test(name.slice(slash + 1))) return undefined;
  switch (name.slice(0, slash + 1)) {
    case "keys/":
      return "key";
    case "index/":
      return "index";
    case "snapshots/":
      return "snapshot";
    case "packs/":
      return "pack";
    case "meta/":
      return "meta";
  }
  return undefined;
}

/** The id part of a layout name (`packs/<id>` -> `<id>`). */
export function idOf(name: string): string {
  return name.slice(name.indexOf("/") + 1);
}

/**
 * The one tier predicate (docs/format.md §2): packs are cold, everything else is hot.
 * Unknown names are treated as cold, the safe side for cost and for ingest reads.
 */
export function tierOf(name: string): Tier {
  const kind = kindOf(name);
  return kind === undefined || kind === "pack" ? "cold" : "hot";
}

/**
 * Whether an ingest-role client may create this object: what a backup writes (packs, their hot
 * copies, index segments, snapshots), never a key object or the config, so a compromised ingest
 * client cannot plant keys (each costs a reader a key derivation) or replace the config.
 */
export function ingestMayCreate(name: string): boolean {
  if (isMirror(name)) return true;
  const kind = kindOf(name);
  return kind === "pack" || kind === "meta" || kind === "index" || kind === "snapshot";
}

/** Whether an ingest-role client may read this object: hot objects that hold no pack data. */
export function ingestMayRead(name: string): boolean {
  if (isMirror(name)) return isMirrorManifest(name);
  const kind = kindOf(name);
  return kind === "config" || kind === "key" || kind === "index" || kind === "snapshot";
}
