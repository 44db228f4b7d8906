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
  prefixes: {
    key: "keys/",
    index: "index/",
    snapshot: "snapshots/",
    pack: "packs/",
    meta: "meta/",
  },
} as const;

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
  const kind = kindOf(name);
  return kind === "pack" || kind === "meta" || kind === "index" || kind === "snapshot";
}

/** Whether an ingest-role client may read this object: hot objects that hold no pack data. */
export function ingestMayRead(name: string): boolean {
  const kind = kindOf(name);
  return kind === "config" || kind === "key" || kind === "index" || kind === "snapshot";
}
