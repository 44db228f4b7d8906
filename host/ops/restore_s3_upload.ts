/**
 * A restore into S3, executed (the layout it writes: `restore_s3_target.ts`): each file's bytes
 * are read blob by blob (`Repository.readBlob`, every blob verified against its id, neighbouring
 * blobs from one cached frame) and go up as one object, in one `PutObject` or a multipart upload
 * as the upload rule says (plugins/sdk/upload_plan.ts, the rule the cost model prices). Each
 * request carries the SHA-256 of its body (`x-amz-checksum-sha256`), which S3 checks before it
 * stores anything; a multipart upload's final checksum (the SHA-256 of its parts' SHA-256s) is
 * compared with the one computed here. Nothing is at its key before it is whole: `PutObject`
 * and `CompleteMultipartUpload` are atomic, and both carry `If-None-Match: *`.
 *
 * A write that fails stops the restore with an error naming the file and its key; multipart
 * uploads in progress are aborted then, and on SIGINT or SIGTERM. A `kill -9` leaves them,
 * invisible but billed, until the bucket's lifecycle rule (`AbortIncompleteMultipartUpload`,
 * docs/s3.md) removes them. A rerun skips the objects already there and writes the rest.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";
import { defaultUploadRule, uploadPlan, type UploadRule } from "../../plugins/sdk/upload_plan.ts";
import type { Repository } from "../repository/repository.ts";
import { onInterrupt } from "../storage/orderly_close.ts";
import { type S3Target, sdkCredentials } from "../storage/s3_location.ts";
import { type OnProgress, ProgressCounter } from "./progress.ts";
import type { RestoreResult } from "./restore.ts";
import type { RestorePlan } from "./restore_plan.ts";
import {
  inPool,
  manifestMetadata,
  objectMetadata,
  parseS3Target,
  type PlannedObject,
  plannedObjects,
  preflightS3,
  restoreManifest,
  type TargetClass,
} from "./restore_s3_target.ts";

/** Files written at once. */
const CONCURRENT_FILES = 4;

/** Options of {@link executeS3Restore}. */
export interface S3RestoreOptions {
  /** `s3://BUCKET/PREFIX[?OPTIONS]`. */
  target: string;
  /** The objects' storage class; default STANDARD. */
  storageClass?: TargetClass;
  onProgress?: OnProgress;
  /** Environment lookup for the target's region and endpoint (default `Deno.env.get`). */
  env?: (name: string) => string | undefined;
}

/**
 * Writes what `plan` names under the target prefix: the check ({@link preflightS3}), the
 * files, then the manifest. Resolves the same numbers a restore into a folder does.
 */
export async function executeS3Restore(
  repo: Repository,
  plan: RestorePlan,
  options: S3RestoreOptions,
): Promise<RestoreResult> {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const target = parseS3Target(options.target, env);
  const { objects, manifestKey } = plannedObjects(plan, target.keyPrefix);
  const manifest = new TextEncoder().encode(JSON.stringify(restoreManifest(plan), null, 2) + "\n");
  const client = await s3Client(target);
  const uploads = new Map<string, string>(); // uploadId -> key, of multipart uploads in progress
  const abortAll = () => abortUploads(client, target, uploads);
  const unregister = onInterrupt(abortAll);
  try {
    const storageClass = options.storageClass ?? "STANDARD";
    const found = await preflightS3(
      client,
      target,
      objects,
      { key: manifestKey, bytes: manifest },
      storageClass,
    );
    const progress = new ProgressCounter("restore", options.onProgress);
    progress.totals(plan.files, plan.bytes);
    const todo = objects.filter((o) => !found.done.has(o.key));
    progress.add(objects.length - todo.length, bytesOf(objects) - bytesOf(todo));
    const w: Writer = {
      repo,
      client,
      target,
      storageClass,
      rule: uploadRule(env),
      uploads,
    };
    await inPool(todo, CONCURRENT_FILES, async (o) => {
      await writeObject(w, o).catch((err) => {
        throw failed(o, target, err);
      });
      progress.add(1, o.node.size ?? 0, o.rel);
    }).catch(async (err) => {
      await abortAll();
      throw err;
    });
    if (!found.manifestDone) {
      await put(w, manifestKey, manifest, manifestMetadata(manifest), "application/json").catch(
        (err) => {
          throw failed({ rel: manifestKey, key: manifestKey }, target, err);
        },
      );
    }
    progress.finish(plan.files, plan.bytes);
    return {
      target: `s3://${target.bucket}/${target.keyPrefix}`,
      files: plan.files,
      dirs: plan.dirs,
      bytes: plan.bytes,
      packs: plan.packs.length,
      readBytes: framesRead(repo, todo),
    };
  } finally {
    unregister();
    client.destroy();
  }
}

/** The client for the target, with the host's credentials for it. */
async function s3Client(target: S3Target): Promise<S3Client> {
  const { S3Client } = await import("@aws-sdk/client-s3");
  return new S3Client({
    region: target.region,
    endpoint: target.endpoint,
    forcePathStyle: target.pathStyle,
    credentials: sdkCredentials(target),
  });
}

/**
 * The upload rule: the default, or (internal, for tests, as for the `s3` plugin)
 * `PERMAFROST_S3_PART_SIZE` bytes for both the threshold and the part size.
 */
function uploadRule(env: (name: string) => string | undefined): UploadRule {
  const part = Number(env("PERMAFROST_S3_PART_SIZE") ?? "");
  return part > 0 ? { multipartThreshold: part, partSize: part } : defaultUploadRule;
}

/** What writing one object needs. */
interface Writer {
  repo: Repository;
  client: S3Client;
  target: S3Target;
  storageClass: TargetClass;
  rule: UploadRule;
  uploads: Map<string, string>;
}

/** Writes one file's object: its bytes from its blobs, in one PUT or in parts. */
async function writeObject(w: Writer, o: PlannedObject): Promise<void> {
  const size = o.node.size ?? 0;
  const plan = uploadPlan(size, w.rule);
  const pieces = contentPieces(w.repo, o, plan.method === "put" ? size : plan.partSize);
  if (plan.method === "put") {
    let body: Uint8Array = new Uint8Array(0); // one piece: the whole file
    for await (const piece of pieces) body = piece;
    await put(w, o.key, body, objectMetadata(o.node));
    return;
  }
  await multipart(w, o, pieces);
}

/**
 * The file's bytes in pieces of `pieceSize` (the last one shorter), from its blobs in order.
 * An `IntegrityError`-like `Error` when the blobs do not add up to the file's size.
 */
async function* contentPieces(
  repo: Repository,
  o: PlannedObject,
  pieceSize: number,
): AsyncGenerator<Uint8Array> {
  const size = o.node.size ?? 0;
  let piece = new Uint8Array(Math.min(pieceSize, size));
  let filled = 0, total = 0;
  for (const id of o.node.content ?? []) {
    let blob = await repo.readBlob(id);
    if (total + blob.length > size) {
      throw new Error(`its chunks hold more than its ${size} bytes: run \`permafrost check\``);
    }
    total += blob.length;
    while (blob.length > 0) {
      const n = Math.min(blob.length, piece.length - filled);
      piece.set(blob.subarray(0, n), filled);
      filled += n;
      blob = blob.subarray(n);
      if (filled === piece.length) {
        yield piece;
        piece = new Uint8Array(Math.min(pieceSize, size - total + blob.length));
        filled = 0;
      }
    }
  }
  if (total !== size) {
    throw new Error(`its chunks hold ${total} of its ${size} bytes: run \`permafrost check\``);
  }
  if (size === 0) yield piece;
}

/** One `PutObject`, create-only, with the SHA-256 of `body` for S3 to check. */
async function put(
  w: Writer,
  key: string,
  body: Uint8Array,
  metadata: Record<string, string>,
  contentType = "application/octet-stream",
): Promise<void> {
  const { PutObjectCommand } = await import("@aws-sdk/client-s3");
  const sha = sha256(body);
  const out = await w.client.send(
    new PutObjectCommand({
      Bucket: w.target.bucket,
      Key: key,
      Body: body,
      ContentLength: body.length,
      ContentType: contentType,
      ChecksumSHA256: sha,
      IfNoneMatch: "*",
      StorageClass: w.storageClass,
      Metadata: metadata,
    }),
  );
  if (out.ChecksumSHA256 !== undefined && out.ChecksumSHA256 !== sha) {
    throw new Error(`S3 stored other bytes (SHA-256 ${out.ChecksumSHA256}, sent ${sha})`);
  }
}

/** A multipart upload of the file's pieces, create-only; aborted if any step fails. */
async function multipart(
  w: Writer,
  o: PlannedObject,
  pieces: AsyncGenerator<Uint8Array>,
): Promise<void> {
  const sdk = await import("@aws-sdk/client-s3");
  const { bucket } = w.target;
  const created = await w.client.send(
    new sdk.CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: o.key,
      ContentType: "application/octet-stream",
      ChecksumAlgorithm: "SHA256",
      StorageClass: w.storageClass,
      Metadata: objectMetadata(o.node),
    }),
  );
  const UploadId = created.UploadId!;
  w.uploads.set(UploadId, o.key);
  try {
    const parts: { PartNumber: number; ETag: string; ChecksumSHA256: string }[] = [];
    const digests: Uint8Array[] = [];
    for await (const piece of pieces) {
      const PartNumber = parts.length + 1;
      const digest = createHash("sha256").update(piece).digest();
      const ChecksumSHA256 = digest.toString("base64");
      const out = await w.client.send(
        new sdk.UploadPartCommand({
          Bucket: bucket,
          Key: o.key,
          UploadId,
          PartNumber,
          Body: piece,
          ContentLength: piece.length,
          ChecksumSHA256,
        }),
      );
      parts.push({ PartNumber, ETag: out.ETag!, ChecksumSHA256 });
      digests.push(digest);
    }
    const done = await w.client.send(
      new sdk.CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: o.key,
        UploadId,
        MultipartUpload: { Parts: parts },
        IfNoneMatch: "*",
      }),
    );
    w.uploads.delete(UploadId);
    // S3's checksum of a multipart object: the SHA-256 of its parts' SHA-256s, "-" and the count.
    const composite = `${sha256(concat(digests))}-${parts.length}`;
    if (done.ChecksumSHA256 !== undefined && done.ChecksumSHA256 !== composite) {
      throw new Error(`S3 stored other bytes (SHA-256 ${done.ChecksumSHA256}, sent ${composite})`);
    }
  } catch (err) {
    await abortUploads(w.client, w.target, new Map([[UploadId, o.key]]));
    w.uploads.delete(UploadId);
    throw err;
  }
}

/** Aborts the multipart uploads in `uploads` (best effort: a lifecycle rule ends the rest). */
async function abortUploads(
  client: S3Client,
  target: S3Target,
  uploads: Map<string, string>,
): Promise<void> {
  const { AbortMultipartUploadCommand } = await import("@aws-sdk/client-s3");
  await Promise.allSettled(
    [...uploads].map(([UploadId, Key]) =>
      client.send(new AbortMultipartUploadCommand({ Bucket: target.bucket, Key, UploadId }))
    ),
  );
  uploads.clear();
}

/** The error of a file that could not be written, naming it and its key. */
function failed(o: { rel: string; key: string }, target: S3Target, err: unknown): Error {
  const why = err instanceof Error ? err.message : String(err);
  const name = err instanceof Error ? err.name : "";
  const message = `writing "${o.rel}" to s3://${target.bucket}/${o.key} failed: ` +
    (name === "PreconditionFailed"
      ? "an object was created at that key meanwhile (a restore into S3 never overwrites)"
      : why) +
    "; the objects already written stay, and a rerun of the same restore writes the rest";
  return name === "PreconditionFailed"
    ? new Deno.errors.AlreadyExists(message, { cause: err })
    : new Error(message, { cause: err });
}

/** Bytes of the frames that hold the blobs of `objects` (each frame once). */
function framesRead(repo: Repository, objects: PlannedObject[]): number {
  const frames = new Map<string, number>();
  for (const o of objects) {
    for (const id of o.node.content ?? []) {
      const e = repo.index.get(id);
      if (e) frames.set(`${e.pack}:${e.frameOffset}`, e.frameLength);
    }
  }
  return [...frames.values()].reduce((a, b) => a + b, 0);
}

function bytesOf(objects: PlannedObject[]): number {
  return objects.reduce((n, o) => n + (o.node.size ?? 0), 0);
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("base64");
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
