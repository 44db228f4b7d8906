/**
 * The repository config (docs/format.md §5): object `config`, plaintext UTF-8 JSON, no secrets.
 * Written once at init and never changed (create-only). Malformed input is a `FormatError`.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { utf8 } from "../crypto/bytes.ts";
import { Fields, parseJson } from "./_fields.ts";
import { type StorageClass, storageClasses } from "../storage/storage.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
/** Packs are < 4 GiB (u32 offsets); this leaves room for the last frame and the TOC. */
export const MAX_PACK_TARGET = 3 * 1024 * MiB;

/**
 * How a repository chunks, packs, compresses and stores. Invariants (checked by
 * `encodeConfig`/`decodeConfig`): `chunker.min < chunker.avg < chunker.max`, `avg` a power of
 * two (FastCDC's normalized masks are derived from log2(avg)); each `pack` size in
 * 1..MAX_PACK_TARGET; `compression.level` in 1..22.
 */
export interface RepoConfig {
  version: 1;
  /** 64 lowercase hex digits, random. Key exports name it. */
  id: string;
  /** ISO 8601 time of `init`. */
  created: string;
  chunker: { algorithm: "fastcdc-2020"; min: number; avg: number; max: number };
  pack: { dataSize: number; metaSize: number; frameSize: number };
  compression: { algorithm: "zstd"; level: number };
  cold: { storageClass: StorageClass };
}

/** Overrides for `newConfig`: any subset of fields, nested objects may be partial. */
export interface ConfigOverrides {
  id?: string;
  created?: string;
  chunker?: Partial<RepoConfig["chunker"]>;
  pack?: Partial<RepoConfig["pack"]>;
  compression?: Partial<RepoConfig["compression"]>;
  cold?: Partial<RepoConfig["cold"]>;
}

export const DEFAULT_CONFIG = {
  chunker: { algorithm: "fastcdc-2020", min: 256 * KiB, avg: 1 * MiB, max: 4 * MiB },
  pack: { dataSize: 64 * MiB, metaSize: 8 * MiB, frameSize: 256 * KiB },
  compression: { algorithm: "zstd", level: 3 },
  cold: { storageClass: "DEEP_ARCHIVE" },
} as const;

/** A new config: defaults, a random id, the current time, then `overrides`. Validated. */
export function newConfig(overrides: ConfigOverrides = {}): RepoConfig {
  const config: RepoConfig = {
    version: 1,
    id: overrides.id ?? randomBytes(32).toString("hex"),
    created: overrides.created ?? new Date().toISOString(),
    chunker: { ...DEFAULT_CONFIG.chunker, ...overrides.chunker },
    pack: { ...DEFAULT_CONFIG.pack, ...overrides.pack },
    compression: { ...DEFAULT_CONFIG.compression, ...overrides.compression },
    cold: { ...DEFAULT_CONFIG.cold, ...overrides.cold },
  };
  return decodeConfig(encodeConfig(config));
}

/** The stored bytes of `c` (compact JSON, fields in the order of `RepoConfig`). */
export function encodeConfig(c: RepoConfig): Uint8Array {
  const ordered: RepoConfig = {
    version: c.version,
    id: c.id,
    created: c.created,
    chunker: {
      algorithm: c.chunker.algorithm,
      min: c.chunker.min,
      avg: c.chunker.avg,
      max: c.chunker.max,
    },
    pack: { dataSize: c.pack.dataSize, metaSize: c.pack.metaSize, frameSize: c.pack.frameSize },
    compression: { algorithm: c.compression.algorithm, level: c.compression.level },
    cold: { storageClass: c.cold.storageClass },
  };
  const bytes = utf8(JSON.stringify(ordered));
  decodeConfig(bytes); // validate what we are about to store
  return bytes;
}

/** Parses and validates a stored config; `FormatError` naming the offending field. */
export function decodeConfig(bytes: Uint8Array): RepoConfig {
  const f = new Fields(parseJson(bytes, "config"), "config");
  f.literal("version", [1]);
  const id = f.hex64("id");
  const created = f.isoTime("created");

  const ch = f.object("chunker");
  const chunker = {
    algorithm: ch.literal("algorithm", ["fastcdc-2020"] as const),
    min: ch.int("min", 64),
    avg: ch.int("avg", 64),
    max: ch.int("max", 64, 1024 * MiB),
  };
  ch.done();
  if ((chunker.avg & (chunker.avg - 1)) !== 0) {
    throw ch.error("avg", `must be a power of two, got ${chunker.avg}`);
  }
  if (!(chunker.min < chunker.avg)) throw ch.error("min", 'must be less than "chunker.avg"');
  if (!(chunker.avg < chunker.max)) throw ch.error("max", 'must be greater than "chunker.avg"');

  const p = f.object("pack");
  const pack = {
    dataSize: p.int("dataSize", 1, MAX_PACK_TARGET),
    metaSize: p.int("metaSize", 1, MAX_PACK_TARGET),
    frameSize: p.int("frameSize", 1, MAX_PACK_TARGET),
  };
  p.done();

  const co = f.object("compression");
  const compression = {
    algorithm: co.literal("algorithm", ["zstd"] as const),
    level: co.int("level", 1, 22),
  };
  co.done();

  const cd = f.object("cold");
  const storageClass = cd.literal("storageClass", storageClasses);
  cd.done();
  f.done();
  return { version: 1, id, created, chunker, pack, compression, cold: { storageClass } };
}
