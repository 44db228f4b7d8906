/**
 * The S3 store behind the `s3` storage plugin. It runs inside the plugin worker, which may
 * reach only the bucket's endpoint, and implements the Storage contract of
 * `host/storage/storage.ts` (see there) on one bucket and key prefix.
 *
 * How each contract point is met:
 * - uploads: one `PutObject`, or a multipart upload in parts, as the upload rule says
 *   (`uploadPlan`, plugins/sdk/upload_plan.ts; the cost model prices the same rule).
 * - create-only: `PutObject` and a multipart upload's `CompleteMultipartUpload` both carry
 *   `If-None-Match: *`, so S3 itself refuses to replace a key (412). On a
 *   412 the store compares the existing object with its bytes: a different size means
 *   different; an ETag equal to the one these bytes get (`etag.ts`) means identical (so a
 *   retried create resolves even for a role that may only list, like ingest on packs);
 *   otherwise the SHA-256 every upload records in `x-amz-meta-sha256` decides, and for an
 *   object without it, its bytes, read back when it is readable (an archived one counts as
 *   different). Identical resolves; different is `ObjectExists`.
 * - integrity: every upload sends `x-amz-checksum-sha256` (per part for multipart uploads), so
 *   S3 rejects bytes damaged on the way.
 * - labels (`CreateOptions.label`): stored as user metadata `x-amz-meta-label` with the object,
 *   which `HeadObject` returns even while the object is archived; `stat` gives it back.
 * - durability: S3 acknowledges a write only once it is stored.
 * - every request is retried on transient failures (`retry.ts`), and fails with
 *   `TransientError` once the retries are used up.
 * - strays: the incomplete multipart uploads under the prefix (`stray_uploads.ts`).
 * - uploads whose bytes arrive in pieces (`startUpload` …): `streamed_upload.ts`.
 *
 * @module
 */

import {
  type _Object,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  RestoreObjectCommand,
  type S3Client,
  type StorageClass,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import {
  type ByteRange,
  defaultUploadRule,
  labelPattern,
  NeedsRestore,
  ObjectExists,
  type ObjectInfo,
  ObjectNotFound,
  type ObjectStat,
  type Stray,
  TransientError,
  uploadPlan,
  type UploadRule,
} from "../../sdk/storage.ts";
import { availabilityOf, classOf } from "./availability.ts";
import { expectedETag, unquote } from "./etag.ts";
import { uploadInParts } from "./multipart_upload.ts";
import { checkName, objectKey, objectName } from "./object_key.ts";
import { defaultRetry, retrying, type RetryPolicy } from "./retry.ts";
import { permanentError, s3Code } from "./s3_errors.ts";
import { abortStrayUpload, strayUploads, type UploadsAt } from "./stray_uploads.ts";
import { StreamedUploads } from "./streamed_upload.ts";
import { purgeVersions, putVersion, restoreVersion, type VersionsAt } from "./versions.ts";

type Range = ByteRange;
type Listed = ObjectInfo;
type Stat = ObjectStat;

/** Where the store keeps its objects and how it talks to S3. */
export interface S3StoreOptions {
  bucket: string;
  /** Prepended to every object name: `""` or a prefix ending in `/`. */
  keyPrefix: string;
  retry?: RetryPolicy;
  /** When an object goes up in parts, and in which (default `defaultUploadRule`). */
  upload?: UploadRule;
  /** Parts of one multipart upload sent at a time (default 4). */
  partConcurrency?: number;
}
const TIERS = { bulk: "Bulk", standard: "Standard", expedited: "Expedited" } as const;

/** The S3 store; see the module doc for how it keeps the Storage contract. */
export class S3Store {
  readonly bucket: string;
  readonly keyPrefix: string;
  #client: S3Client;
  #retry: RetryPolicy;
  #upload: UploadRule;
  #partConcurrency: number;
  /** Where the strays are (`stray_uploads.ts`). */
  #uploads: UploadsAt;
  /** Where the versions are (`versions.ts`). */
  readonly versions: VersionsAt;
  /** Uploads whose bytes arrive in pieces (`streamed_upload.ts`). */
  readonly streamed: StreamedUploads;

  constructor(client: S3Client, options: S3StoreOptions) {
    this.#client = client;
    this.bucket = options.bucket;
    this.keyPrefix = options.keyPrefix;
    this.#retry = options.retry ?? defaultRetry;
    this.#upload = options.upload ?? defaultUploadRule;
    this.#partConcurrency = options.partConcurrency ?? 4;
    this.#uploads = { client, bucket: this.bucket, keyPrefix: this.keyPrefix, retry: this.#retry };
    this.versions = this.#uploads;
    this.streamed = new StreamedUploads(
      { ...this.#uploads, rule: this.#upload, concurrency: this.#partConcurrency },
      {
        create: (name, data, options) => this.create(name, data, options),
        putVersion: (name, data, options) => putVersion(this.versions, name, data, options),
      },
    );
  }

  /**
   * Checks that the bucket exists and the credentials may list the prefix. A one-key listing
   * under the prefix, not `HeadBucket`: both need `s3:ListBucket`, but `HeadBucket` carries no
   * `s3:prefix`, so the generated policies, which allow listing only under the prefix, refuse
   * it (and moto asks for an `s3:HeadBucket` action that IAM does not have).
   */
  async init(): Promise<void> {
    const what = this.keyPrefix === ""
      ? `LIST of bucket "${this.bucket}"`
      : `LIST of "${this.keyPrefix}" in bucket "${this.bucket}"`;
    try {
      await retrying(
        what,
        this.#retry,
        () =>
          this.#client.send(
            new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.keyPrefix, MaxKeys: 1 }),
          ),
      );
    } catch (e) {
      if (s3Code(e) === "NotFound" || s3Code(e) === "NoSuchBucket") {
        throw new Deno.errors.NotFound(
          `bucket "${this.bucket}" does not exist (or is in another region); create it first ` +
            `(docs/s3.md) or set the region`,
        );
      }
      throw permanentError(what, e, this.bucket);
    }
  }

  async create(
    name: string,
    data: Uint8Array,
    options?: { storageClass?: string; label?: string },
  ): Promise<void> {
    const key = objectKey(this.keyPrefix, name);
    if (!(data instanceof Uint8Array)) throw new TypeError(`data for "${name}" is no Uint8Array`);
    const storageClass = classOf(options?.storageClass ?? "STANDARD");
    if (storageClass === undefined) {
      throw new TypeError(`storage class "${options?.storageClass}" of "${name}" is not known`);
    }
    const label = options?.label;
    if (label !== undefined && (typeof label !== "string" || !labelPattern.test(label))) {
      throw new TypeError(`label "${label}" of object "${name}" is not valid`);
    }
    const sha256 = createHash("sha256").update(data).digest();
    const metadata = { sha256: toHex(sha256), ...(label ? { label } : {}) };
    const what = `PUT of object "${name}"`;
    const plan = uploadPlan(data.byteLength, this.#upload);
    for (let round = 1;; round++) {
      let created: boolean;
      try {
        created = plan.method === "parts"
          ? await uploadInParts(
            this.#client,
            { bucket: this.bucket, key, data, storageClass, metadata, what },
            { partSize: plan.partSize, concurrency: this.#partConcurrency },
            this.#retry,
          )
          : await this.#put(key, data, storageClass, sha256, metadata, what);
      } catch (e) {
        throw permanentError(what, e, this.bucket);
      }
      if (created) return;
      const same = await this.#sameAsExisting(name, key, data, toHex(sha256));
      if (same === true) return;
      if (same === false) {
        throw new ObjectExists(`object "${name}" already exists with different bytes`);
      }
      if (round >= 3) {
        throw new TransientError(
          `object "${name}" was taken and then gone again, ${round} times; try again`,
        );
      }
    }
  }

  async read(name: string, range?: Range): Promise<Uint8Array> {
    const key = objectKey(this.keyPrefix, name);
    if (range !== undefined && range !== null) {
      const { offset, length } = range;
      if (!isCount(offset) || !isCount(length)) {
        throw new RangeError(`range ${offset}+${length} of object "${name}" is not valid`);
      }
      // S3 has no empty range: look at the object instead.
      if (length === 0) {
        const head = await this.#head(name, key);
        if (head === null) throw new ObjectNotFound(`object "${name}" not found`);
        this.#checkReadable(name, head);
        if (offset > (head.ContentLength ?? 0)) throw pastEnd(name, range, head.ContentLength);
        return new Uint8Array(0);
      }
    }
    const what = `GET of object "${name}"`;
    let got: { bytes: Uint8Array; size: number | undefined };
    try {
      got = await retrying(what, this.#retry, async () => {
        const out = await this.#client.send(
          new GetObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Range: range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined,
          }),
        );
        const bytes = await readBody(out.Body, out.ContentLength, name);
        const total = /\/(\d+)$/.exec(out.ContentRange ?? "")?.[1];
        return { bytes, size: total !== undefined ? Number(total) : out.ContentLength };
      });
    } catch (e) {
      switch (s3Code(e)) {
        case "NoSuchKey":
          throw new ObjectNotFound(`object "${name}" not found`);
        case "InvalidObjectState": {
          const storageClass = (e as { StorageClass?: string }).StorageClass;
          throw needsRestore(name, storageClass);
        }
        case "InvalidRange":
          throw pastEnd(name, range!, (await this.#head(name, key))?.ContentLength);
      }
      throw permanentError(what, e, this.bucket);
    }
    if (range && got.bytes.byteLength < range.length) throw pastEnd(name, range, got.size);
    return got.bytes;
  }

  async stat(name: string): Promise<Stat | null> {
    const head = await this.#head(name, objectKey(this.keyPrefix, name));
    if (head === null) return null;
    const label = head.Metadata?.label;
    return {
      ...listed(name, head.ContentLength, head.LastModified, head.StorageClass),
      availability: availabilityOf(head.StorageClass, head.Restore),
      ...(label !== undefined && labelPattern.test(label) ? { label } : {}),
    };
  }

  async list(prefix: string): Promise<Listed[]> {
    if (typeof prefix !== "string") throw new TypeError(`list prefix "${prefix}" is not valid`);
    const what = `LIST of "${prefix}"`;
    const out: Listed[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await retrying(what, this.#retry, () =>
          this.#client.send(
            new ListObjectsV2Command({
              Bucket: this.bucket,
              Prefix: this.keyPrefix + prefix,
              ContinuationToken: token,
            }),
          ));
        for (const o of page.Contents ?? []) {
          const name = objectName(this.keyPrefix, o.Key ?? "");
          if (name === undefined || !isName(name)) continue;
          out.push(listed(name, o.Size, o.LastModified, o.StorageClass));
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (e) {
      throw permanentError(what, e, this.bucket);
    }
    return out;
  }

  async requestRestore(
    name: string,
    options: { tier: string; days: number; version?: string },
  ): Promise<void> {
    if (typeof options?.version === "string") {
      return await restoreVersion(this.versions, name, options.version, options);
    }
    const key = objectKey(this.keyPrefix, name);
    const Tier = Object.hasOwn(TIERS, options?.tier)
      ? TIERS[options.tier as keyof typeof TIERS]
      : undefined;
    if (Tier === undefined) {
      throw new TypeError(`restore tier "${options?.tier}" is not bulk, standard or expedited`);
    }
    if (!Number.isSafeInteger(options.days) || options.days < 1) {
      throw new TypeError(`restore days "${options.days}" must be a whole number of at least 1`);
    }
    const what = `RESTORE of object "${name}"`;
    try {
      await retrying(what, this.#retry, () =>
        this.#client.send(
          new RestoreObjectCommand({
            Bucket: this.bucket,
            Key: key,
            RestoreRequest: { Days: options.days, GlacierJobParameters: { Tier } },
          }),
        ));
    } catch (e) {
      switch (s3Code(e)) {
        case "RestoreAlreadyInProgress": // 409: the running restore goes on
        case "InvalidObjectState": // the object is not archived: nothing to restore
          return;
        case "NoSuchKey":
          throw new ObjectNotFound(`object "${name}" not found`);
      }
      throw permanentError(what, e, this.bucket);
    }
  }

  /**
   * `DeleteObject`. With `versions` (the host asks for it for every object but a mirror's,
   * whose versions only `deleteVersion` removes), on a bucket whose versioning is enabled or
   * suspended, which answers the delete with a delete marker, it then deletes every version and
   * delete marker of exactly this key (`purgeVersions`), so the space is freed and the guard
   * finds nothing to bring back.
   */
  async delete(name: string, options?: { versions?: boolean }): Promise<void> {
    const key = objectKey(this.keyPrefix, name);
    const what = `DELETE of object "${name}"`;
    let marker: boolean;
    try {
      const out = await retrying(
        what,
        this.#retry,
        () => this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })),
      );
      marker = out.DeleteMarker === true;
    } catch (e) {
      throw permanentError(what, e, this.bucket);
    }
    if (marker && options?.versions === true) await purgeVersions(this.versions, name);
  }

  /** The incomplete multipart uploads under the prefix (`stray_uploads.ts`). */
  strays(): Promise<Stray[]> {
    return strayUploads(this.#uploads);
  }

  /** Aborts the incomplete multipart upload `name` names (`stray_uploads.ts`). */
  removeStray(name: string): Promise<void> {
    return abortStrayUpload(this.#uploads, name);
  }

  /** One `PutObject` with `If-None-Match: *`: `true` if it created the object, `false` on 412. */
  #put(
    key: string,
    data: Uint8Array,
    storageClass: StorageClass,
    sha256: Uint8Array,
    metadata: Record<string, string>,
    what: string,
  ): Promise<boolean> {
    return retrying(what, this.#retry, async () => {
      try {
        await this.#client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: data,
            IfNoneMatch: "*",
            StorageClass: storageClass,
            ChecksumSHA256: toBase64(sha256),
            Metadata: metadata,
          }),
        );
        return true;
      } catch (e) {
        if (s3Code(e) === "PreconditionFailed") return false;
        throw e;
      }
    });
  }

  /**
   * Whether the existing object `name` holds exactly `data` (see the module doc); `null` if it
   * is gone again. Rejects with `ObjectExists` when it cannot tell without a restore.
   */
  async #sameAsExisting(
    name: string,
    key: string,
    data: Uint8Array,
    sha256: string,
  ): Promise<boolean | null> {
    const listed = await this.#listOne(name, key);
    if (listed === null) return null;
    if (listed.Size !== data.byteLength) return false;
    if (unquote(listed.ETag) === expectedETag(data, this.#upload)) return true;
    let head: HeadObjectCommandOutput | null;
    try {
      head = await this.#head(name, key);
    } catch (e) {
      if (e instanceof Deno.errors.PermissionDenied) return false; // the ETag is all we have
      throw e;
    }
    if (head === null) return null;
    const recorded = head.Metadata?.sha256;
    if (recorded !== undefined) return recorded === sha256;
    const state = availabilityOf(head.StorageClass, head.Restore).state;
    if (state === "archived" || state === "restoring") {
      throw new ObjectExists(
        `object "${name}" already exists in ${head.StorageClass} without a recorded checksum; ` +
          `its bytes cannot be compared without restoring it`,
      );
    }
    let existing: Uint8Array;
    try {
      existing = await this.read(name);
    } catch (e) {
      if (e instanceof ObjectNotFound) return null;
      throw e;
    }
    return existing.every((b, i) => b === data[i]);
  }

  /** The listing entry of exactly `key`, or `null` (needs only `s3:ListBucket`). */
  async #listOne(name: string, key: string): Promise<_Object | null> {
    const what = `LIST of object "${name}"`;
    try {
      const page = await retrying(what, this.#retry, () =>
        this.#client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: key, MaxKeys: 1 }),
        ));
      const first = page.Contents?.[0];
      return first?.Key === key ? first : null;
    } catch (e) {
      throw permanentError(what, e, this.bucket);
    }
  }

  /** `HeadObject`, or `null` if there is no such object. */
  async #head(name: string, key: string): Promise<HeadObjectCommandOutput | null> {
    const what = `HEAD of object "${name}"`;
    try {
      return await retrying(
        what,
        this.#retry,
        () => this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })),
      );
    } catch (e) {
      if (s3Code(e) === "NotFound" || s3Code(e) === "NoSuchKey") return null;
      throw permanentError(what, e, this.bucket);
    }
  }

  #checkReadable(name: string, head: HeadObjectCommandOutput): void {
    const state = availabilityOf(head.StorageClass, head.Restore).state;
    if (state === "archived" || state === "restoring") {
      throw needsRestore(name, head.StorageClass);
    }
  }
}

function needsRestore(name: string, storageClass: string | undefined): NeedsRestore {
  const cls = storageClass ? ` (${storageClass})` : "";
  return new NeedsRestore(
    `object "${name}" is archived${cls}: request a restore and read it once the restore has ` +
      `finished`,
  );
}

function pastEnd(name: string, range: Range, size: number | undefined): RangeError {
  const of = size === undefined ? "" : ` (${size} bytes)`;
  return new RangeError(
    `range ${range.offset}+${range.length} is past the end of object "${name}"${of}`,
  );
}

function listed(
  name: string,
  size: number | undefined,
  modified: Date | undefined,
  storageClass: string | undefined,
): Listed {
  const out: Listed = { name, size: size ?? 0 };
  if (modified !== undefined) out.modified = modified.toISOString();
  const known = classOf(storageClass);
  if (known !== undefined) out.storageClass = known;
  return out;
}

/**
 * Reads a response body into one buffer of the announced length (no second copy). A body
 * that ends early is a `TransientError`, so the request is retried.
 */
async function readBody(body: unknown, length: number | undefined, name: string) {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (length === undefined) {
    return await (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
  }
  const out = new Uint8Array(length);
  let got = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    if (got + chunk.byteLength > length) {
      throw new TransientError(`object "${name}" sent more than the ${length} bytes announced`);
    }
    out.set(chunk, got);
    got += chunk.byteLength;
  }
  if (got !== length) {
    throw new TransientError(`object "${name}" ended early (${got} of ${length} bytes)`);
  }
  return out;
}

function isName(name: string): boolean {
  try {
    checkName(name);
    return true;
  } catch {
    return false;
  }
}

function isCount(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}
