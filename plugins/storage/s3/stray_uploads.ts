/**
 * The S3 store's strays (the Storage contract's `strays` and `removeStray`): multipart uploads
 * under the key prefix that were started and never completed nor aborted (a process killed
 * while uploading a large pack). S3 keeps their parts, and bills them, until they are aborted;
 * the bucket's lifecycle rule (docs/s3.md "Incomplete multipart uploads") is the other way out.
 *
 * A stray's name is `<object name>?uploadId=<upload id>`. Listing them takes
 * `ListMultipartUploads` (permission `s3:ListBucketMultipartUploads`, which the generated
 * reader and admin policies grant and the ingest one does not: without it `strays` rejects
 * with `PermissionDenied`), plus one `ListParts`
 * per upload for its size; removing one is `AbortMultipartUpload`.
 *
 * @module
 */

import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { Stray } from "../../sdk/storage.ts";
import { checkName, objectKey, objectName } from "./object_key.ts";
import { retrying, type RetryPolicy } from "./retry.ts";
import { permanentError, s3Code } from "./s3_errors.ts";

/** Where the uploads are: the store's bucket, key prefix and retry policy. */
export interface UploadsAt {
  client: S3Client;
  bucket: string;
  keyPrefix: string;
  retry: RetryPolicy;
}

const UPLOAD_ID = "?uploadId=";

/** Every incomplete multipart upload under the prefix, with the bytes of its parts. */
export async function strayUploads(at: UploadsAt): Promise<Stray[]> {
  const what = "LIST of the incomplete multipart uploads";
  const out: Stray[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  try {
    do {
      const page = await retrying(what, at.retry, () =>
        at.client.send(
          new ListMultipartUploadsCommand({
            Bucket: at.bucket,
            Prefix: at.keyPrefix,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        ));
      for (const u of page.Uploads ?? []) {
        const name = objectName(at.keyPrefix, u.Key ?? "");
        if (name === undefined || !u.UploadId) continue;
        const size = await partBytes(at, u.Key!, u.UploadId);
        if (size === null) continue; // completed or aborted meanwhile
        out.push({
          name: name + UPLOAD_ID + u.UploadId,
          size,
          ...(u.Initiated ? { modified: u.Initiated.toISOString() } : {}),
        });
      }
      const more = page.IsTruncated === true;
      keyMarker = more ? page.NextKeyMarker : undefined;
      uploadIdMarker = more ? page.NextUploadIdMarker : undefined;
    } while (keyMarker !== undefined);
  } catch (e) {
    throw permanentError(what, e, at.bucket);
  }
  return out;
}

/** Aborts the upload a stray's name gives; one already gone resolves. */
export async function abortStrayUpload(at: UploadsAt, stray: string): Promise<void> {
  const cut = typeof stray === "string" ? stray.lastIndexOf(UPLOAD_ID) : -1;
  const name = cut > 0 ? stray.slice(0, cut) : "";
  const uploadId = cut > 0 ? stray.slice(cut + UPLOAD_ID.length) : "";
  try {
    checkName(name);
    if (uploadId === "") throw new TypeError("no upload id");
  } catch {
    throw new TypeError(
      `"${stray}" is not a stray of the S3 store (want "<object name>${UPLOAD_ID}<upload id>")`,
    );
  }
  const what = `ABORT of the multipart upload of "${name}"`;
  try {
    await retrying(what, at.retry, () =>
      at.client.send(
        new AbortMultipartUploadCommand({
          Bucket: at.bucket,
          Key: objectKey(at.keyPrefix, name),
          UploadId: uploadId,
        }),
      ));
  } catch (e) {
    if (s3Code(e) === "NoSuchUpload") return;
    throw permanentError(what, e, at.bucket);
  }
}

/**
 * The bytes of the parts uploaded so far (`ListParts`, page by page); `null` when the upload
 * ended meanwhile.
 */
async function partBytes(at: UploadsAt, key: string, uploadId: string): Promise<number | null> {
  let bytes = 0;
  let marker: string | undefined;
  do {
    let page;
    try {
      page = await retrying(
        "LIST of the parts of an incomplete upload",
        at.retry,
        () =>
          at.client.send(
            new ListPartsCommand({
              Bucket: at.bucket,
              Key: key,
              UploadId: uploadId,
              PartNumberMarker: marker,
            }),
          ),
      );
    } catch (e) {
      if (s3Code(e) === "NoSuchUpload") return null;
      throw e;
    }
    for (const p of page.Parts ?? []) bytes += p.Size ?? 0;
    marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
  } while (marker !== undefined);
  return bytes;
}
