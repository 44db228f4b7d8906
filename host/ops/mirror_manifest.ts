/**
 * The readable manifest of a `sync` snapshot (docs/engines.md `sync`, docs/format.md §2):
 * `mirror/<source>/.permafrost/manifest-<UTC time>-<snapshot id prefix>.json`, plain JSON that
 * anyone with the bucket can read without Permafrost: every file of the snapshot with its
 * object (key, version, size, SHA-256, class), and the tombstones: files the previous manifest
 * of the source listed that are gone now, with when they were found gone.
 *
 * Written create-only after every object is durable and before the snapshot manifest (the
 * commit point): a run killed between the two leaves a manifest naming no snapshot, which the
 * next run's manifest supersedes (manifests sort by time).
 *
 * A source mirrored sealed (`encrypt = true`, docs/format.md §8.1) gets no readable manifest:
 * it would show the names the sealed objects hide.
 *
 * @module
 */

import { utf8 } from "../crypto/bytes.ts";
import { isMirrorManifest, layout } from "../repository/layout.ts";
import type { Storage } from "../storage/storage.ts";
import type { MirrorEntry, MirrorSink } from "./mirror_sink.ts";

/** The manifest's JSON. */
export interface MirrorManifest {
  version: 1;
  /** The snapshot (`snapshots/<id>`). */
  snapshot: string;
  /** When the walk ended (ISO 8601, UTC). */
  time: string;
  /** The source's absolute path on the machine backed up, and its host. */
  source: string;
  host: string;
  files: {
    path: string;
    key: string;
    version?: string;
    size: number;
    sha256: string;
    class: string;
  }[];
  tombstones: { path: string; gone: string }[];
}

/** Writes one manifest per source of `sink` for snapshot `id`; see the module doc. */
export async function writeMirrorManifests(
  storage: Storage,
  sink: MirrorSink,
  snapshot: { id: string; time: string; host: string },
): Promise<void> {
  if (sink.sealed) return;
  for (const source of sink.sources) {
    const entries = sink.entries.get(source.name) ?? [];
    const previous = await latestManifest(storage, source.name);
    const live = new Set(entries.map((e) => e.path));
    const tombstones = (previous?.files ?? [])
      .filter((f) => !live.has(f.path))
      .map((f) => ({ path: f.path, gone: snapshot.time }));
    const manifest: MirrorManifest = {
      version: 1,
      snapshot: snapshot.id,
      time: snapshot.time,
      source: source.path,
      host: snapshot.host,
      files: entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map(file),
      tombstones,
    };
    const name = layout.mirrorManifest(source.name, snapshot.time, snapshot.id);
    await storage.create(name, utf8(JSON.stringify(manifest, null, 1) + "\n"), {
      storageClass: "STANDARD",
    });
  }
}

function file(e: MirrorEntry): MirrorManifest["files"][number] {
  return {
    path: e.path,
    key: e.ref.key,
    ...(e.ref.version !== undefined ? { version: e.ref.version } : {}),
    size: e.size,
    sha256: e.ref.sha256,
    class: e.ref.class,
  };
}

/**
 * The newest readable manifest of source `name` the host wrote (names sort by time; an object
 * whose name or JSON is not a manifest's is not one), or `undefined` when there is none or it
 * cannot be read (then no tombstones are written: a warning would be noise, as the snapshots
 * themselves hold the full history).
 */
export async function latestManifest(
  storage: Storage,
  name: string,
): Promise<MirrorManifest | undefined> {
  const listed = await storage.list(layout.mirrorManifests(name));
  const names = listed.map((o) => o.name).filter(isMirrorManifest).sort();
  const newest = names.at(-1);
  if (newest === undefined) return undefined;
  try {
    const parsed = JSON.parse(new TextDecoder().decode(await storage.read(newest)));
    return isManifest(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `m` has the shape of a {@link MirrorManifest}. */
function isManifest(m: unknown): m is MirrorManifest {
  const o = m as Partial<MirrorManifest> | null;
  return typeof o === "object" && o !== null && o.version === 1 &&
    typeof o.snapshot === "string" && /^[0-9a-f]{64}$/.test(o.snapshot) &&
    typeof o.time === "string" && Array.isArray(o.tombstones) && Array.isArray(o.files) &&
    o.files.every((f) =>
      typeof f === "object" && f !== null && typeof f.path === "string" &&
      typeof f.key === "string" && typeof f.size === "number" && typeof f.sha256 === "string"
    );
}
