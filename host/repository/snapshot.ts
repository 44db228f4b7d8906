/**
 * Snapshots (docs/format.md §9): the manifest object `snapshots/<id>` (id = SHA-256 hex of the
 * stored bytes), sealed under the index key so ingest clients can list snapshots, and the
 * details blob (type "snapshot", in a metadata pack, readable only with the private key).
 *
 * ```
 * manifest object: "PFSN" | version u8 = 1 | aeadSeal(indexKey, manifest JSON, aad = "PFSN")
 * nonce:           first 12 bytes of HMAC-SHA-256(indexKey, "permafrost manifest nonce v1" || JSON)
 * ```
 *
 * The nonce is derived from the plaintext (§9.1), so a manifest re-encoded from its details
 * blob (`rebuild`) gets the same bytes and the same id.
 *
 * @module
 */

import { createHmac } from "node:crypto";
import { AEAD_NONCE_LENGTH, aeadOpen, aeadSeal } from "../crypto/aead.ts";
import { concatBytes, utf8 } from "../crypto/bytes.ts";
import { FormatError } from "./errors.ts";
import { Fields, parseJson } from "./_fields.ts";

export const SNAPSHOT_VERSION = 1;
const MAGIC = utf8("PFSN");
const NONCE_LABEL = utf8("permafrost manifest nonce v1");

/** Counters of one backup run. All are non-negative integers. */
export interface SnapshotStats {
  files: number;
  dirs: number;
  /** Plaintext bytes of all files in the snapshot. */
  bytes: number;
  /** Blobs this run stored that the repository did not have. */
  newBlobs: number;
  /** Plaintext bytes of those blobs. */
  newBytes: number;
  /** Bytes of packs this run wrote (after compression and encryption). */
  storedBytes: number;
  /** Entries skipped (unreadable, non-UTF-8 names, ...); listed in the details blob. */
  skipped: number;
}

/**
 * A snapshot manifest. `root` is the root tree's blob id, `parent` the snapshot this one was
 * built on (if any), `details` the blob id of its `SnapshotDetails`. `time` is ISO 8601.
 * Every blob it references (root and details, and all they reach) MUST be in a durable pack
 * named by a durable index segment before the manifest is written.
 */
export interface SnapshotManifest {
  version: 1;
  time: string;
  host: string;
  user: string;
  paths: string[];
  tags: string[];
  engine: string;
  root: string;
  parent?: string;
  stats: SnapshotStats;
  details: string;
}

/**
 * A protected file that changed or vanished since it was first stored (docs/format.md §9.2,
 * docs/engines.md): `snapshot` holds the original, `restore` is the command that restores it.
 */
export interface SnapshotFinding {
  kind: "changed" | "vanished";
  path: string;
  source: string;
  rel: string;
  snapshot: string;
  restore: string;
}

/**
 * The private part of a snapshot: a copy of the manifest (minus `details`), skipped entries, and
 * (only when there are any) the protection findings.
 */
export interface SnapshotDetails {
  version: 1;
  manifest: Omit<SnapshotManifest, "details">;
  skipped: { path: string; reason: string }[];
  findings?: SnapshotFinding[];
}

const STAT_FIELDS = [
  "files",
  "dirs",
  "bytes",
  "newBlobs",
  "newBytes",
  "storedBytes",
  "skipped",
] as const;

/**
 * Seals a manifest, with the nonce derived from its JSON ({@link manifestNonce}): equal
 * manifests encode to equal bytes. `nonce` overrides that, for tests only.
 */
export function encodeSnapshot(
  indexKey: Uint8Array,
  m: SnapshotManifest,
  nonce?: Uint8Array,
): Uint8Array {
  const json = utf8(JSON.stringify({ ...orderedManifest(m), details: m.details }));
  decodeManifestJson(json); // validate before storing
  const sealed = aeadSeal(indexKey, json, MAGIC, nonce ?? manifestNonce(indexKey, json));
  const out = new Uint8Array(5 + sealed.length);
  out.set(MAGIC);
  out[4] = SNAPSHOT_VERSION;
  out.set(sealed, 5);
  return out;
}

/**
 * docs/format.md §9.1: the manifest's AEAD nonce, the first 12 bytes of
 * HMAC-SHA-256(indexKey, "permafrost manifest nonce v1" || manifest JSON). A deterministic,
 * SIV-like nonce: two seals share a nonce only when their plaintexts are equal (up to an HMAC
 * collision), and then they are the same message, so GCM's nonce-reuse failure cannot happen.
 */
export function manifestNonce(indexKey: Uint8Array, json: Uint8Array): Uint8Array {
  const mac = createHmac("sha256", indexKey).update(concatBytes([NONCE_LABEL, json])).digest();
  return new Uint8Array(mac.buffer, mac.byteOffset, AEAD_NONCE_LENGTH).slice();
}

/** Opens a manifest. `IntegrityError` if it does not authenticate, `FormatError` if malformed. */
export function decodeSnapshot(indexKey: Uint8Array, bytes: Uint8Array): SnapshotManifest {
  if (bytes.length < 5) throw new FormatError(`snapshot manifest is only ${bytes.length} bytes`);
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== MAGIC[i]) throw new FormatError('snapshot manifest has no "PFSN" magic');
  }
  if (bytes[4] !== SNAPSHOT_VERSION) {
    throw new FormatError(`snapshot manifest version ${bytes[4]} is not supported (expected 1)`);
  }
  return decodeManifestJson(aeadOpen(indexKey, bytes.subarray(5), MAGIC));
}

/** The plaintext JSON of a manifest, validated. Exported for the spec examples. */
export function decodeManifestJson(json: Uint8Array): SnapshotManifest {
  const what = "snapshot manifest";
  const f = new Fields(parseJson(json, what), what);
  const m = readManifest(f) as SnapshotManifest;
  m.details = f.hex64("details");
  f.done();
  return m;
}

/** The bytes of a details blob (canonical JSON). */
export function encodeDetails(d: SnapshotDetails): Uint8Array {
  const bytes = utf8(JSON.stringify({
    version: d.version,
    manifest: orderedManifest(d.manifest),
    skipped: d.skipped.map((s) => ({ path: s.path, reason: s.reason })),
    ...(d.findings && d.findings.length > 0
      ? {
        findings: d.findings.map((x) => ({
          kind: x.kind,
          path: x.path,
          source: x.source,
          rel: x.rel,
          snapshot: x.snapshot,
          restore: x.restore,
        })),
      }
      : {}),
  }));
  decodeDetails(bytes);
  return bytes;
}

/** Parses and validates a details blob; `FormatError` naming the field. */
export function decodeDetails(bytes: Uint8Array): SnapshotDetails {
  const what = "snapshot details";
  const f = new Fields(parseJson(bytes, what), what);
  f.literal("version", [1]);
  const mf = f.object("manifest");
  const manifest = readManifest(mf);
  mf.done();
  const skipped = f.array("skipped").map((s, i) => {
    const sf = new Fields(s, what, `skipped[${i}].`);
    const entry = { path: sf.string("path"), reason: sf.string("reason") };
    sf.done();
    return entry;
  });
  // Optional (§9.2): written only when a backup had findings, so other details stay as before.
  const findings = f.has("findings")
    ? f.array("findings").map((x, i) => {
      const xf = new Fields(x, what, `findings[${i}].`);
      const finding: SnapshotFinding = {
        kind: xf.literal("kind", ["changed", "vanished"] as const),
        path: xf.string("path"),
        source: xf.string("source"),
        rel: xf.string("rel"),
        snapshot: xf.hex64("snapshot"),
        restore: xf.string("restore"),
      };
      xf.done();
      return finding;
    })
    : undefined;
  f.done();
  return { version: 1, manifest, skipped, ...(findings ? { findings } : {}) };
}

function orderedManifest(m: Omit<SnapshotManifest, "details">): Omit<SnapshotManifest, "details"> {
  const stats = {} as SnapshotStats;
  for (const k of STAT_FIELDS) stats[k] = m.stats[k];
  return {
    version: m.version,
    time: m.time,
    host: m.host,
    user: m.user,
    paths: m.paths,
    tags: m.tags,
    engine: m.engine,
    root: m.root,
    parent: m.parent,
    stats,
  };
}

function readManifest(f: Fields): Omit<SnapshotManifest, "details"> {
  f.literal("version", [1]);
  const m: Omit<SnapshotManifest, "details"> = {
    version: 1,
    time: f.isoTime("time"),
    host: f.string("host"),
    user: f.string("user"),
    paths: f.stringArray("paths"),
    tags: f.stringArray("tags"),
    engine: f.string("engine"),
    root: f.hex64("root"),
    stats: {} as SnapshotStats,
  };
  if (m.engine === "") throw f.error("engine", "must not be empty");
  if (f.has("parent")) m.parent = f.hex64("parent");
  const sf = f.object("stats");
  for (const k of STAT_FIELDS) m.stats[k] = sf.int(k, 0);
  sf.done();
  // Key order of the result follows the interface, `parent` before `stats`.
  const { stats, ...rest } = m;
  return { ...rest, stats };
}
