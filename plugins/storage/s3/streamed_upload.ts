/**
 * Uploads whose bytes arrive in pieces (the storage contract's `startUpload`, `writeUpload`,
 * `finishUpload`, `abortUpload`, `host/storage/storage.ts`): how the host mirrors a file too
 * large to hold in memory (docs/engines.md `sync`).
 *
 * The host declares the object's size and SHA-256 first (it hashed the file once). The upload
 * rule (`uploadPlan`, plugins/sdk/upload_plan.ts) then decides as for any object:
 * - **one `PutObject`**: the pieces are gathered (at most the rule's threshold) and `finish`
 *   writes them as `create` or `putVersion` would;
 * - **parts**: `CreateMultipartUpload` at once (with the declared SHA-256 as `x-amz-meta-sha256`),
 *   and a part goes up, with its own SHA-256 checked by S3, as soon as its bytes are in; at most
 *   `concurrency` parts are in flight, and `write` waits while they are, so memory holds a few
 *   parts. `finish` checks the bytes had the declared size and SHA-256 (else aborts: nothing is
 *   stored) and completes: with `If-None-Match: *` for a create-only object (a 412 then
 *   compares the object there, by size and recorded SHA-256: the same resolves, other bytes are
 *   `ObjectExists`), without it for a version (S3 answers the new `VersionId`).
 *
 * An upload the host abandons (a crash) is an incomplete multipart upload: a stray
 * (`stray_uploads.ts`), which `gc purge` removes after its grace period.
 *
 * @module
 */

import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  type S3Client,
  type StorageClass,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { createHash, type Hash } from "node:crypto";
import { labelPattern, ObjectExists, uploadPlan, type UploadRule } from "../../sdk/storage.ts";
import { classOf } from "./availability.ts";
import { objectKey } from "./object_key.ts";
import { retrying, type RetryPolicy } from "./retry.ts";
import { permanentError, s3Code } from "./s3_errors.ts";

/** What `startUpload` is told. */
export interface UploadStart {
  /** The object's size in bytes. */
  size: number;
  /** Its SHA-256, hex. */
  sha256: string;
  storageClass?: string;
  label?: string;
  /** A new version of the key (versioned mirror) rather than a create-only object. */
  version?: boolean;
}

/** How the one-request case is written: the store's own `create` and `putVersion`. */
export interface WholeWriters {
  create(
    name: string,
    data: Uint8Array,
    options: { storageClass: string; label?: string },
  ): Promise<void>;
  putVersion(name: string, data: Uint8Array, options: { storageClass: string }): Promise<string>;
}

/** Where and how the uploads go. */
export interface StreamedAt {
  client: S3Client;
  bucket: string;
  keyPrefix: string;
  retry: RetryPolicy;
  rule: UploadRule;
  concurrency: number;
}

interface Upload {
  name: string;
  key: string;
  start: UploadStart;
  storageClass: StorageClass;
  hash: Hash;
  received: number;
  /** The bytes not yet sent: the whole object (one PUT) or the part being filled. */
  buffer: Uint8Array;
  filled: number;
  /** Multipart only. */
  parts?: {
    uploadId: string;
    partSize: number;
    /** Parts started so far. */
    started: number;
    done: CompletedPart[];
    inFlight: Set<Promise<void>>;
    failure?: unknown;
  };
}

/** The open uploads of one store, by the id `start` gave. */
export class StreamedUploads {
  #at: StreamedAt;
  #whole: WholeWriters;
  #open = new Map<string, Upload>();

  constructor(at: StreamedAt, whole: WholeWriters) {
    this.#at = at;
    this.#whole = whole;
  }

  /** Opens an upload of `name`; resolves to its id. */
  async start(name: string, start: UploadStart): Promise<string> {
    const key = objectKey(this.#at.keyPrefix, name);
    const { size, sha256, label } = start ?? {};
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new TypeError(`size "${size}" of object "${name}" is not a number of bytes`);
    }
    if (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256)) {
      throw new TypeError(`SHA-256 "${sha256}" of object "${name}" is not 64 hex digits`);
    }
    if (label !== undefined && (typeof label !== "string" || !labelPattern.test(label))) {
      throw new TypeError(`label "${label}" of object "${name}" is not valid`);
    }
    const storageClass = classOf(start.storageClass ?? "STANDARD");
    if (storageClass === undefined) {
      throw new TypeError(`storage class "${start.storageClass}" of "${name}" is not known`);
    }
    const plan = uploadPlan(size, this.#at.rule);
    const upload: Upload = {
      name,
      key,
      start: { ...start, version: start.version === true },
      storageClass,
      hash: createHash("sha256"),
      received: 0,
      buffer: new Uint8Array(plan.method === "put" ? size : plan.partSize),
      filled: 0,
    };
    if (plan.method === "parts") {
      const what = `PUT of object "${name}" (starting a multipart upload)`;
      try {
        const out = await retrying(what, this.#at.retry, () =>
          this.#at.client.send(
            new CreateMultipartUploadCommand({
              Bucket: this.#at.bucket,
              Key: key,
              StorageClass: storageClass,
              Metadata: { sha256, ...(label ? { label } : {}) },
              ChecksumAlgorithm: "SHA256",
            }),
          ));
        if (!out.UploadId) throw new Error(`${what}: S3 gave no upload id`);
        upload.parts = {
          uploadId: out.UploadId,
          partSize: plan.partSize,
          started: 0,
          done: [],
          inFlight: new Set(),
        };
      } catch (e) {
        throw permanentError(what, e, this.#at.bucket);
      }
    }
    const id = crypto.randomUUID();
    this.#open.set(id, upload);
    return id;
  }

  /** Adds the next bytes; resolves once at most `concurrency` parts are in flight. */
  async write(id: string, data: Uint8Array): Promise<void> {
    const u = this.#get(id);
    if (!(data instanceof Uint8Array)) throw new TypeError(`data for "${u.name}" is no Uint8Array`);
    if (u.received + data.byteLength > u.start.size) {
      throw new RangeError(
        `object "${u.name}" was declared ${u.start.size} bytes and was sent more`,
      );
    }
    u.hash.update(data);
    u.received += data.byteLength;
    let at = 0;
    while (at < data.byteLength) {
      const n = Math.min(data.byteLength - at, u.buffer.byteLength - u.filled);
      u.buffer.set(data.subarray(at, at + n), u.filled);
      u.filled += n;
      at += n;
      if (u.parts && u.filled === u.buffer.byteLength) await this.#sendPart(u);
    }
  }

  /**
   * Completes the upload once every declared byte arrived with the declared SHA-256: resolves
   * `{ version }` for a version, `{}` for a create-only object (created, or there already with
   * the same bytes); `ObjectExists` for a key that holds other bytes. Anything else aborts it.
   */
  async finish(id: string): Promise<{ version?: string }> {
    const u = this.#get(id);
    this.#open.delete(id);
    let completed = false;
    try {
      const sha256 = u.hash.digest("hex");
      if (u.received !== u.start.size || sha256 !== u.start.sha256) {
        throw new TypeError(
          `object "${u.name}" was declared ${u.start.size} bytes with SHA-256 ` +
            `${u.start.sha256}, and sent ${u.received} with ${sha256}: not stored`,
        );
      }
      if (!u.parts) {
        completed = true; // nothing to abort
        const options = { storageClass: u.storageClass as string };
        if (u.start.version) {
          return { version: await this.#whole.putVersion(u.name, u.buffer, options) };
        }
        await this.#whole.create(u.name, u.buffer, { ...options, label: u.start.label });
        return {};
      }
      if (u.filled > 0 || u.parts.started === 0) await this.#sendPart(u);
      await Promise.all(u.parts.inFlight);
      if (u.parts.failure !== undefined) throw u.parts.failure;
      const out = await this.#complete(u);
      completed = true;
      if (out.created) return out.version === undefined ? {} : { version: out.version };
      if (await this.#holdsSame(u)) return {};
      throw new ObjectExists(`object "${u.name}" already exists with different bytes`);
    } finally {
      if (!completed && u.parts) await this.#abortParts(u);
    }
  }

  /** Abandons the upload: nothing is stored. Resolves for an id that is gone. */
  async abort(id: string): Promise<void> {
    const u = this.#open.get(id);
    if (!u) return;
    this.#open.delete(id);
    if (u.parts) {
      await Promise.allSettled(u.parts.inFlight);
      await this.#abortParts(u);
    }
  }

  #get(id: string): Upload {
    const u = typeof id === "string" ? this.#open.get(id) : undefined;
    if (!u) throw new TypeError(`upload "${id}" is not open`);
    return u;
  }

  /** Sends the filled buffer as the next part, waiting while `concurrency` are in flight. */
  async #sendPart(u: Upload): Promise<void> {
    const parts = u.parts!;
    if (parts.failure !== undefined) throw parts.failure;
    const body = u.buffer.subarray(0, u.filled);
    u.buffer = new Uint8Array(parts.partSize);
    u.filled = 0;
    const number = ++parts.started;
    const what = `PUT of object "${u.name}" (part ${number})`;
    const ChecksumSHA256 = createHash("sha256").update(body).digest("base64");
    const sent: Promise<void> = retrying(what, this.#at.retry, () =>
      this.#at.client.send(
        new UploadPartCommand({
          Bucket: this.#at.bucket,
          Key: u.key,
          UploadId: parts.uploadId,
          PartNumber: number,
          Body: body,
          ChecksumSHA256,
        }),
      ))
      .then((out) => {
        parts.done.push({ PartNumber: number, ETag: out.ETag, ChecksumSHA256 });
      }, (e) => {
        parts.failure ??= permanentError(what, e, this.#at.bucket);
      })
      .finally(() => parts.inFlight.delete(sent));
    parts.inFlight.add(sent);
    while (parts.inFlight.size >= this.#at.concurrency) await Promise.race(parts.inFlight);
    if (parts.failure !== undefined) throw parts.failure;
  }

  /** `CompleteMultipartUpload`: `created` false on a 412 (a create-only key that is taken). */
  async #complete(u: Upload): Promise<{ created: boolean; version?: string }> {
    const parts = u.parts!;
    const what = `PUT of object "${u.name}" (completing the upload)`;
    const Parts = parts.done.toSorted((a, b) => a.PartNumber! - b.PartNumber!);
    try {
      return await retrying(what, this.#at.retry, async (attempt) => {
        try {
          const out = await this.#at.client.send(
            new CompleteMultipartUploadCommand({
              Bucket: this.#at.bucket,
              Key: u.key,
              UploadId: parts.uploadId,
              MultipartUpload: { Parts },
              ...(u.start.version ? {} : { IfNoneMatch: "*" }),
            }),
          );
          if (!u.start.version) return { created: true };
          if (!out.VersionId || out.VersionId === "null") {
            throw new TypeError(
              `bucket "${this.#at.bucket}" gave no version id for "${u.name}": its versioning ` +
                "is not enabled, and the object's previous version may have been replaced",
            );
          }
          return { created: true, version: out.VersionId };
        } catch (e) {
          if (!u.start.version && s3Code(e) === "PreconditionFailed") return { created: false };
          // An earlier try completed it: a create-only object is then there (compared next); a
          // version's id is lost, so the caller uploads again.
          if (s3Code(e) === "NoSuchUpload" && attempt > 1 && !u.start.version) {
            return { created: false };
          }
          throw e;
        }
      });
    } catch (e) {
      if (e instanceof TypeError) throw e;
      throw permanentError(what, e, this.#at.bucket);
    }
  }

  /** Whether the object at `u.key` has `u`'s size and recorded SHA-256. */
  async #holdsSame(u: Upload): Promise<boolean> {
    const what = `HEAD of object "${u.name}"`;
    try {
      const head = await retrying(
        what,
        this.#at.retry,
        () => this.#at.client.send(new HeadObjectCommand({ Bucket: this.#at.bucket, Key: u.key })),
      );
      return head.ContentLength === u.start.size && head.Metadata?.sha256 === u.start.sha256;
    } catch (e) {
      if (s3Code(e) === "NotFound" || s3Code(e) === "NoSuchKey") return false;
      throw permanentError(what, e, this.#at.bucket);
    }
  }

  /** Best effort: a role without `s3:AbortMultipartUpload` leaves a stray for `gc purge`. */
  async #abortParts(u: Upload): Promise<void> {
    await this.#at.client.send(
      new AbortMultipartUploadCommand({
        Bucket: this.#at.bucket,
        Key: u.key,
        UploadId: u.parts!.uploadId,
      }),
    ).catch(() => {});
  }
}
