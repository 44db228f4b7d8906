/**
 * The version words of the storage contract (`host/storage/storage.ts` "Versions") on S3 bucket
 * versioning, for the mirror of the `sync` engine (docs/engines.md): `GetBucketVersioning`, a
 * `PutObject` without `If-None-Match` that returns its `VersionId`, reads, heads and restores
 * of one version, `ListObjectVersions`, and `DeleteObject` of one version.
 *
 * A version goes up in one `PutObject` (up to S3's 5 GiB), with its SHA-256 checked by S3
 * (`x-amz-checksum-sha256`) and recorded as user metadata `x-amz-meta-sha256`, like every
 * create. Larger objects are refused: the host does not mirror them yet.
 *
 * @module
 */

import {
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  RestoreObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import {
  type ByteRange,
  NeedsRestore,
  ObjectNotFound,
  type ObjectStat,
  s3UploadLimits,
  type VersionInfo,
  type Versioning,
} from "../../sdk/storage.ts";
import { availabilityOf, classOf } from "./availability.ts";
import { objectKey, objectName } from "./object_key.ts";
import { retrying, type RetryPolicy } from "./retry.ts";
import { permanentError, s3Code } from "./s3_errors.ts";

/** Where the versions are, and how requests are retried. */
export interface VersionsAt {
  client: S3Client;
  bucket: string;
  keyPrefix: string;
  retry: RetryPolicy;
}

const TIERS = { bulk: "Bulk", standard: "Standard", expedited: "Expedited" } as const;

/** The bucket's versioning (`GetBucketVersioning`; needs `s3:GetBucketVersioning`). */
export async function versioning(at: VersionsAt): Promise<Versioning> {
  const what = `GetBucketVersioning (s3:GetBucketVersioning) of bucket "${at.bucket}"`;
  try {
    const out = await retrying(
      what,
      at.retry,
      () => at.client.send(new GetBucketVersioningCommand({ Bucket: at.bucket })),
    );
    return out.Status === "Enabled" ? "enabled" : out.Status === "Suspended" ? "suspended" : "off";
  } catch (e) {
    throw permanentError(what, e, at.bucket);
  }
}

/** Writes a new version of `name`; resolves to its `VersionId`. */
export async function putVersion(
  at: VersionsAt,
  name: string,
  data: Uint8Array,
  options?: { storageClass?: string },
): Promise<string> {
  const key = objectKey(at.keyPrefix, name);
  if (!(data instanceof Uint8Array)) throw new TypeError(`data for "${name}" is no Uint8Array`);
  if (data.byteLength > s3UploadLimits.maxPutBytes) {
    throw new RangeError(
      `object "${name}" is ${data.byteLength} bytes: a version is written in one PutObject, ` +
        "at most 5 GiB",
    );
  }
  const storageClass = classOf(options?.storageClass ?? "STANDARD");
  if (storageClass === undefined) {
    throw new TypeError(`storage class "${options?.storageClass}" of "${name}" is not known`);
  }
  const sha256 = createHash("sha256").update(data).digest();
  const what = `PUT (s3:PutObject) of object "${name}"`;
  try {
    const out = await retrying(what, at.retry, () =>
      at.client.send(
        new PutObjectCommand({
          Bucket: at.bucket,
          Key: key,
          Body: data,
          StorageClass: storageClass,
          ChecksumSHA256: btoa(String.fromCharCode(...sha256)),
          Metadata: { sha256: sha256.toHex() },
        }),
      ));
    if (!out.VersionId || out.VersionId === "null") {
      throw new TypeError(
        `bucket "${at.bucket}" gave no version id for "${name}": its versioning is not ` +
          "enabled, and the object's previous version may have been replaced",
      );
    }
    return out.VersionId;
  } catch (e) {
    if (e instanceof TypeError) throw e;
    throw permanentError(what, e, at.bucket);
  }
}

/** Reads one version of `name` (or a range of it). */
export async function readVersion(
  at: VersionsAt,
  name: string,
  version: string,
  range?: ByteRange,
): Promise<Uint8Array> {
  const key = objectKey(at.keyPrefix, name);
  const what = `GET of object "${name}" version "${version}"`;
  try {
    return await retrying(what, at.retry, async () => {
      const out = await at.client.send(
        new GetObjectCommand({
          Bucket: at.bucket,
          Key: key,
          VersionId: version,
          Range: range && range.length > 0
            ? `bytes=${range.offset}-${range.offset + range.length - 1}`
            : undefined,
        }),
      );
      if (range && range.length === 0) return new Uint8Array(0);
      return await (out.Body as { transformToByteArray(): Promise<Uint8Array> })
        .transformToByteArray();
    });
  } catch (e) {
    const code = s3Code(e);
    if (code === "NoSuchKey" || code === "NoSuchVersion" || code === "InvalidArgument") {
      throw new ObjectNotFound(`object "${name}" version "${version}" not found`);
    }
    if (code === "InvalidObjectState") {
      throw new NeedsRestore(
        `object "${name}" version "${version}" is archived: request a restore and read it once ` +
          "the restore has finished",
      );
    }
    throw permanentError(what, e, at.bucket);
  }
}

/** `stat` of one version; `null` when there is no such version. */
export async function statVersion(
  at: VersionsAt,
  name: string,
  version: string,
): Promise<ObjectStat | null> {
  const key = objectKey(at.keyPrefix, name);
  const what = `HEAD of object "${name}" version "${version}"`;
  try {
    const head = await retrying(
      what,
      at.retry,
      () =>
        at.client.send(new HeadObjectCommand({ Bucket: at.bucket, Key: key, VersionId: version })),
    );
    const storageClass = classOf(head.StorageClass ?? "STANDARD");
    return {
      name,
      size: head.ContentLength ?? 0,
      ...(head.LastModified ? { modified: head.LastModified.toISOString() } : {}),
      ...(storageClass ? { storageClass } : {}),
      availability: availabilityOf(head.StorageClass, head.Restore),
    };
  } catch (e) {
    const code = s3Code(e);
    if (code === "NotFound" || code === "NoSuchKey" || code === "NoSuchVersion") return null;
    if (code === "BadRequest" || code === "InvalidArgument") return null; // a malformed id
    throw permanentError(what, e, at.bucket);
  }
}

/** Every version under `prefix` (`ListObjectVersions`; delete markers are not versions). */
export async function listVersions(at: VersionsAt, prefix: string): Promise<VersionInfo[]> {
  if (typeof prefix !== "string") throw new TypeError(`list prefix "${prefix}" is not valid`);
  const what = `LIST of versions under "${prefix}"`;
  const out: VersionInfo[] = [];
  let keyMarker: string | undefined, versionMarker: string | undefined;
  try {
    do {
      const page = await retrying(what, at.retry, () =>
        at.client.send(
          new ListObjectVersionsCommand({
            Bucket: at.bucket,
            Prefix: at.keyPrefix + prefix,
            KeyMarker: keyMarker,
            VersionIdMarker: versionMarker,
          }),
        ));
      for (const v of page.Versions ?? []) {
        const name = objectName(at.keyPrefix, v.Key ?? "");
        if (name === undefined || !v.VersionId) continue;
        const storageClass = classOf(v.StorageClass ?? "STANDARD");
        out.push({
          name,
          size: v.Size ?? 0,
          version: v.VersionId,
          latest: v.IsLatest === true,
          ...(v.LastModified ? { modified: v.LastModified.toISOString() } : {}),
          ...(storageClass ? { storageClass } : {}),
        });
      }
      const more = page.IsTruncated === true;
      keyMarker = more ? page.NextKeyMarker : undefined;
      versionMarker = more ? page.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
  } catch (e) {
    throw permanentError(what, e, at.bucket);
  }
  return out;
}

/** Asks for a temporary readable copy of one archived version. */
export async function restoreVersion(
  at: VersionsAt,
  name: string,
  version: string,
  options: { tier: string; days: number },
): Promise<void> {
  const Tier = Object.hasOwn(TIERS, options.tier)
    ? TIERS[options.tier as keyof typeof TIERS]
    : undefined;
  if (Tier === undefined) {
    throw new TypeError(`restore tier "${options.tier}" is not bulk, standard or expedited`);
  }
  const what = `RESTORE of object "${name}" version "${version}"`;
  try {
    await retrying(what, at.retry, () =>
      at.client.send(
        new RestoreObjectCommand({
          Bucket: at.bucket,
          Key: objectKey(at.keyPrefix, name),
          VersionId: version,
          RestoreRequest: { Days: options.days, GlacierJobParameters: { Tier } },
        }),
      ));
  } catch (e) {
    switch (s3Code(e)) {
      case "RestoreAlreadyInProgress":
      case "InvalidObjectState":
        return;
      case "NoSuchKey":
      case "NoSuchVersion":
        throw new ObjectNotFound(`object "${name}" version "${version}" not found`);
    }
    throw permanentError(what, e, at.bucket);
  }
}

/** Deletes one version for good (admin); a missing one resolves. */
export async function deleteVersion(at: VersionsAt, name: string, version: string): Promise<void> {
  const what = `DELETE of object "${name}" version "${version}"`;
  try {
    await retrying(what, at.retry, () =>
      at.client.send(
        new DeleteObjectCommand({
          Bucket: at.bucket,
          Key: objectKey(at.keyPrefix, name),
          VersionId: version,
        }),
      ));
  } catch (e) {
    const code = s3Code(e);
    if (code === "NoSuchKey" || code === "NoSuchVersion") return;
    throw permanentError(what, e, at.bucket);
  }
}

/**
 * Deletes every version and delete marker of exactly `name` (`ListObjectVersions` with the key
 * as prefix, other keys left out; `DeleteObject` with each `VersionId`), page by page: the
 * admin's delete on a versioned bucket. Needs `s3:ListBucketVersions` and
 * `s3:DeleteObjectVersion` (the admin policy with `--versioned`); without them it rejects with
 * `PermissionDenied` naming them.
 */
export async function purgeVersions(at: VersionsAt, name: string): Promise<void> {
  const key = objectKey(at.keyPrefix, name);
  const what = `LIST of the versions of object "${name}"`;
  let keyMarker: string | undefined, versionMarker: string | undefined;
  let listing = true;
  try {
    do {
      listing = true;
      const page = await retrying(what, at.retry, () =>
        at.client.send(
          new ListObjectVersionsCommand({
            Bucket: at.bucket,
            Prefix: key,
            KeyMarker: keyMarker,
            VersionIdMarker: versionMarker,
          }),
        ));
      const ids = [...page.Versions ?? [], ...page.DeleteMarkers ?? []]
        .filter((v) => v.Key === key && v.VersionId)
        .map((v) => v.VersionId!);
      listing = false; // a locked version's refusal is deleteVersion's own error
      for (const id of ids) await deleteVersion(at, name, id);
      const more = page.IsTruncated === true;
      keyMarker = more ? page.NextKeyMarker : undefined;
      versionMarker = more ? page.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
  } catch (e) {
    if (!listing) throw e;
    const code = s3Code(e);
    if (code === "AccessDenied" || e instanceof Deno.errors.PermissionDenied) {
      throw new Deno.errors.PermissionDenied(
        `bucket "${at.bucket}" keeps versions: deleting object "${name}" for good needs ` +
          "s3:ListBucketVersions and s3:DeleteObjectVersion (the admin policy made with " +
          "`permafrost s3 policy --versioned`, docs/s3.md): its older versions and a delete " +
          "marker are left",
      );
    }
    throw permanentError(what, e, at.bucket);
  }
}
