/**
 * A restore into S3 (`restore ... --target s3://BUCKET/PREFIX/`, docs/s3.md "Restoring into
 * S3"): what the target holds once it is done, and the check before anything is written.
 *
 * - Each file is one object, key = the target's prefix + the file's path in the restore (the
 *   same relative path a restore into a folder gives it; control characters, which S3 advises
 *   against and some of its tools mishandle, written as `%XX`: {@link keyOf}), in
 *   `--target-class` (default
 *   STANDARD). Its mode, mtime, uid and gid are object metadata ({@link objectMetadata}), with
 *   `permafrost-content`, a digest of the file's content ids that says which bytes it holds.
 * - What S3 cannot hold as an object is listed in one manifest, `PREFIX/.permafrost-restore.json`
 *   ({@link restoreManifest}): every directory with its metadata (so empty ones too), symlinks,
 *   which files were hard links of which, extended attributes, and the files whose key is not
 *   their path (`renamed`). It is written last: a
 *   target with its manifest is a complete restore.
 * - Create-only: a key that exists is left alone. One that holds the same content and metadata
 *   in the same class (its size, storage class and every `permafrost-*` metadata, `permafrost-content` included; for the
 *   manifest its size and `permafrost-content`, the SHA-256 of its bytes:
 *   {@link manifestMetadata}) is skipped, which is how a
 *   rerun resumes; any other refuses the whole restore before anything is written
 *   ({@link preflightS3}). Writes carry `If-None-Match: *`, so a key created meanwhile is not
 *   overwritten either.
 *
 * The writer is `restore_s3_upload.ts`; `executeS3Restore` there runs the steps.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";
import type { TreeNode } from "../repository/tree.ts";
import { bucketArn, objectArn, type Partition, s3Location } from "../s3/location.ts";
import type { PolicyStatement } from "../s3/policy.ts";
import { type StorageClass, storageClasses } from "../storage/storage.ts";
import { parseS3Location, type S3Target } from "../storage/s3_location.ts";
import type { RestorePlan } from "./restore_plan.ts";

/** The manifest's name under the target prefix. */
export const S3_RESTORE_MANIFEST = ".permafrost-restore.json";

/** The classes `--target-class` takes: those the cost model prices (S3's own names). */
export const targetClasses = storageClasses;
export type TargetClass = StorageClass;

/** Control characters, which a key holds as `%XX` ({@link keyOf}). */
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/g;

const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, "0");

/** S3's longest key, in bytes of UTF-8. */
const MAX_KEY_BYTES = 1024;

/** Whether a restore target names an S3 prefix rather than a folder. */
export function isS3Target(target: string): boolean {
  return target.startsWith("s3://");
}

/**
 * The target as an S3 location (`s3://BUCKET[/PREFIX][?region=&endpoint=&profile=]`, as a
 * repository location: host/storage/s3_location.ts). A `TypeError` naming what to change.
 */
export function parseS3Target(
  target: string,
  env?: (name: string) => string | undefined,
): S3Target {
  return parseS3Location(target, env);
}

/**
 * The key of the file at `rel` under `keyPrefix`: its path, with each control character
 * (U+0000 to U+001F, U+007F) as `%` and two hex digits.
 */
export function keyOf(keyPrefix: string, rel: string): string {
  return keyPrefix + rel.replace(CONTROL, (c) => "%" + hex2(c.charCodeAt(0)));
}

/**
 * Refuses (`TypeError`) a target in S3 that overlaps the repository at `location`: the same
 * bucket at the same endpoint, one prefix holding the other. Plaintext objects there would sit
 * among the repository's own (a restored `snapshots/...` path among its snapshots), and an
 * in-region job's role would be given `s3:PutObject` inside the repository it only reads.
 */
export function checkTargetOutsideRepository(
  location: string,
  target: string,
  env?: (name: string) => string | undefined,
): void {
  if (!isS3Target(target) || !location.startsWith("s3://")) return;
  const t = parseS3Target(target, env);
  const r = parseS3Location(location, env);
  if (t.bucket !== r.bucket || t.endpoint !== r.endpoint) return;
  if (t.keyPrefix.startsWith(r.keyPrefix) || r.keyPrefix.startsWith(t.keyPrefix)) {
    throw new TypeError(
      `the target s3://${t.bucket}/${t.keyPrefix} overlaps the repository ` +
        `s3://${r.bucket}/${r.keyPrefix}: restore into a prefix outside it`,
    );
  }
}

/** One object a restore into S3 writes: a file's key, its path, and its node. */
export interface PlannedObject {
  key: string;
  rel: string;
  node: TreeNode;
}

/** The objects of `plan` under `keyPrefix`, and the manifest's key; refusals as `TypeError`s. */
export function plannedObjects(
  plan: RestorePlan,
  keyPrefix: string,
): { objects: PlannedObject[]; manifestKey: string } {
  const objects: PlannedObject[] = [];
  const tooLong: string[] = [];
  const mirrored: string[] = [];
  const seen = new Map<string, string>(); // key -> the path that has it
  for (const e of plan.entries) {
    if (e.node.type !== "file") continue;
    if (e.rel === S3_RESTORE_MANIFEST) {
      throw new TypeError(
        `the snapshot has a file "${S3_RESTORE_MANIFEST}" where the restore writes its ` +
          "manifest: restore into a folder instead, or restore the files around it",
      );
    }
    const key = keyOf(keyPrefix, e.rel);
    if (new TextEncoder().encode(key).length > MAX_KEY_BYTES) tooLong.push(e.rel);
    if (seen.has(key)) {
      throw new TypeError(
        `the files "${seen.get(key)}" and "${e.rel}" would both be the key "${key}" (a control ` +
          "character is written as %XX): restore them into a folder instead",
      );
    }
    seen.set(key, e.rel);
    if (e.node.mirror) mirrored.push(e.rel);
    objects.push({ key, rel: e.rel, node: e.node });
  }
  if (tooLong.length > 0) {
    throw new TypeError(
      `${tooLong.length} files have paths too long for an S3 key under "${keyPrefix}" ` +
        `(${MAX_KEY_BYTES} bytes at most), e.g. "${tooLong[0]}": use a shorter prefix, or ` +
        "restore into a folder",
    );
  }
  if (mirrored.length > 0) {
    throw new TypeError(
      `${mirrored.length} files are mirrored objects (the sync engine's), e.g. ` +
        `"${mirrored[0]}": a restore into S3 does not write them; restore them into a folder`,
    );
  }
  return { objects, manifestKey: keyPrefix + S3_RESTORE_MANIFEST };
}

/**
 * Which bytes a file holds, without reading them: the SHA-256 of its size and content ids
 * (each id is the keyed hash of its chunk, docs/format.md §4), as 64 hex digits.
 */
export function contentDigest(node: TreeNode): string {
  return createHash("sha256").update(`${node.size ?? 0}\n${(node.content ?? []).join("\n")}`)
    .digest("hex");
}

/** A file object's user metadata (`x-amz-meta-*`): its metadata and {@link contentDigest}. */
export function objectMetadata(node: TreeNode): Record<string, string> {
  return {
    "permafrost-mode": node.mode.toString(8).padStart(4, "0"),
    "permafrost-mtime": node.mtime,
    ...(node.uid !== undefined ? { "permafrost-uid": String(node.uid) } : {}),
    ...(node.gid !== undefined ? { "permafrost-gid": String(node.gid) } : {}),
    "permafrost-content": contentDigest(node),
  };
}

/** The manifest object's user metadata: `permafrost-content`, the SHA-256 of its bytes (hex). */
export function manifestMetadata(bytes: Uint8Array): Record<string, string> {
  return { "permafrost-content": createHash("sha256").update(bytes).digest("hex") };
}

/** An entry's metadata as the manifest lists it. */
interface ManifestMeta {
  path: string;
  mode: string;
  mtime: string;
  uid?: number;
  gid?: number;
}

/** The manifest of a restore into S3 (see the module doc), version 1. */
export interface S3RestoreManifest {
  version: 1;
  snapshot: string;
  /** The snapshot path restored. */
  path: string;
  files: number;
  bytes: number;
  dirs: ManifestMeta[];
  symlinks: (ManifestMeta & { target: string })[];
  /** Files that were hard links of another restored file (each is an object of its own too). */
  hardlinks: { path: string; to: string }[];
  /** Extended attributes, [name, value as base64] (docs/format.md §8), by path. */
  xattrs: { path: string; xattrs: [string, string][] }[];
  /** Files whose key is not their path (control characters as `%XX`: {@link keyOf}). */
  renamed: { path: string; key: string }[];
}

/** The manifest of `plan`: deterministic, so a rerun finds the same bytes. */
export function restoreManifest(plan: RestorePlan): S3RestoreManifest {
  const meta = (path: string, n: TreeNode): ManifestMeta => ({
    path,
    mode: n.mode.toString(8).padStart(4, "0"),
    mtime: n.mtime,
    ...(n.uid !== undefined ? { uid: n.uid } : {}),
    ...(n.gid !== undefined ? { gid: n.gid } : {}),
  });
  const m: S3RestoreManifest = {
    version: 1,
    snapshot: plan.snapshot,
    path: plan.path,
    files: plan.files,
    bytes: plan.bytes,
    dirs: [],
    symlinks: [],
    hardlinks: [],
    xattrs: [],
    renamed: [],
  };
  for (const e of plan.entries) {
    if (e.node.type === "dir") m.dirs.push(meta(e.rel, e.node));
    if (e.node.type === "symlink") {
      m.symlinks.push({ ...meta(e.rel, e.node), target: e.node.target ?? "" });
    }
    if (e.linkTo !== undefined) m.hardlinks.push({ path: e.rel, to: e.linkTo });
    if (e.node.xattrs?.length) m.xattrs.push({ path: e.rel, xattrs: e.node.xattrs });
    const key = keyOf("", e.rel);
    if (e.node.type === "file" && key !== e.rel) m.renamed.push({ path: e.rel, key });
  }
  return m;
}

/** What {@link preflightS3} found: keys already holding what the restore would write. */
export interface S3Preflight {
  /** File keys already holding the same content: skipped. */
  done: Set<string>;
  /** The manifest is there with the same bytes (the restore finished before). */
  manifestDone: boolean;
}

/**
 * Lists the target prefix, and for each planned key that exists, reads its metadata (HEAD
 * only: an object in an archive class can be checked without a thaw). Throws `Deno.errors.AlreadyExists` naming up to five keys when any
 * holds something else; nothing is written.
 */
export async function preflightS3(
  client: S3Client,
  target: S3Target,
  objects: PlannedObject[],
  manifest: { key: string; bytes: Uint8Array },
  storageClass: TargetClass = "STANDARD",
): Promise<S3Preflight> {
  // An object in another class than `--target-class` asks for is not what this restore writes.
  const inClass = (c: string | undefined) => (c ?? "STANDARD") === storageClass;
  const sdk = await import("@aws-sdk/client-s3");
  const existing = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await client.send(
      new sdk.ListObjectsV2Command({
        Bucket: target.bucket,
        Prefix: target.keyPrefix,
        ContinuationToken: token,
      }),
    );
    for (const o of page.Contents ?? []) existing.set(o.Key!, o.Size ?? 0);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const done = new Set<string>();
  const conflicts: string[] = [];
  const present = objects.filter((o) => existing.has(o.key));
  await inPool(present, 16, async (o) => {
    const head = await client.send(
      new sdk.HeadObjectCommand({ Bucket: target.bucket, Key: o.key }),
    );
    // The whole metadata, not only the content: an object left by a restore of another
    // snapshot can hold the same bytes with another mode or mtime, and skipping it would
    // leave that metadata under this restore's manifest.
    const want = objectMetadata(o.node);
    const got = head.Metadata ?? {};
    const same = head.ContentLength === (o.node.size ?? 0) && inClass(head.StorageClass) &&
      Object.keys(got).filter((k) => k.startsWith("permafrost-")).length ===
        Object.keys(want).length &&
      Object.entries(want).every(([k, v]) => got[k] === v);
    if (same) done.add(o.key);
    else conflicts.push(o.key);
  });
  let manifestDone = false;
  if (existing.has(manifest.key)) {
    // A HEAD, not a GET: in an archive class (`--target-class GLACIER`, `DEEP_ARCHIVE`) the
    // manifest cannot be read without a thaw, and its metadata says which bytes it holds.
    const head = await client.send(
      new sdk.HeadObjectCommand({ Bucket: target.bucket, Key: manifest.key }),
    );
    manifestDone = head.ContentLength === manifest.bytes.length && inClass(head.StorageClass) &&
      head.Metadata?.["permafrost-content"] ===
        manifestMetadata(manifest.bytes)["permafrost-content"];
    if (!manifestDone) conflicts.push(manifest.key);
  }
  if (conflicts.length > 0) {
    conflicts.sort();
    const shown = conflicts.slice(0, 5).map((k) => `"${k}"`).join(", ");
    throw new Deno.errors.AlreadyExists(
      `the target s3://${target.bucket}/${target.keyPrefix} already has ${conflicts.length} ` +
        `object${
          conflicts.length === 1 ? "" : "s"
        } this restore would write with other content, metadata or class: ${shown}` +
        `${conflicts.length > 5 ? ", …" : ""}. A restore into S3 never overwrites: give ` +
        "another prefix, or delete those objects. Nothing was written.",
    );
  }
  return { done, manifestDone };
}

/** Runs `f` on every item, at most `width` at once; the first failure rejects (others finish). */
export async function inPool<T>(
  items: T[],
  width: number,
  f: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++];
      try {
        await f(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  if (failure) throw failure.error;
}

/**
 * The task role's statements for a restore job's S3 target (docs/in-region.md §5), when `argv`
 * is a restore with `--target s3://...`: list the target prefix, read (a rerun's check) and
 * write objects under it, and abort its multipart uploads. None otherwise.
 */
export function restoreTargetStatements(argv: string[], partition: Partition): PolicyStatement[] {
  const i = argv.indexOf("--target");
  const given = i >= 0 ? argv[i + 1] : undefined;
  if (argv[0] !== "restore" || given === undefined || !isS3Target(given)) return [];
  const parsed = parseS3Target(given);
  const loc = s3Location(parsed.bucket, parsed.prefix, partition);
  return [
    {
      Sid: "ListRestoreTarget",
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: [bucketArn(loc)],
      Condition: { StringLike: { "s3:prefix": [`${loc.keyPrefix}*`] } },
    },
    {
      Sid: "WriteRestoreTarget",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
      Resource: [objectArn(loc, "*")],
    },
  ];
}
