/**
 * Create-only upload of a large object in parts (S3 multipart upload), for the objects the
 * upload rule (`uploadPlan`, plugins/sdk/upload_plan.ts) sends in parts.
 *
 * Parts are `subarray`s of the caller's buffer (no copies), each sent with its SHA-256 so S3
 * verifies it, at most `concurrency` at a time; a failed part is retried alone (`retry.ts`),
 * re-sending only that part; once one part fails for good, no new part is started. Completion
 * sends `If-None-Match: *`, so the object appears only if the key is still free, atomically,
 * with all parts. An upload that does not complete is aborted (best effort: a role without
 * `s3:AbortMultipartUpload` leaves it for the bucket's lifecycle rule to clean up,
 * docs/s3.md).
 *
 * @module
 */

import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  type StorageClass,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { retrying, type RetryPolicy } from "./retry.ts";
import { s3Code } from "./s3_errors.ts";

/** How to cut an object into parts: `uploadPlan`'s part size, and parts sent at a time. */
export interface PartPlan {
  partSize: number;
  concurrency: number;
}

/** What to upload where. `what` names it in errors (`PUT of object "packs/…"`). */
export interface PartsUpload {
  bucket: string;
  key: string;
  data: Uint8Array;
  storageClass: StorageClass;
  metadata: Record<string, string>;
  what: string;
}

/**
 * Uploads `upload.data` in parts and completes it with `If-None-Match: *`. Resolves `true`
 * when this upload created the object, `false` when the key was taken (412 on completion, or
 * the upload vanished on a retried completion, i.e. an earlier try completed it): the caller
 * then compares the existing object. Other failures reject (as `retrying` does).
 */
export async function uploadInParts(
  client: S3Client,
  upload: PartsUpload,
  plan: PartPlan,
  retry: RetryPolicy,
): Promise<boolean> {
  const { bucket: Bucket, key: Key, what } = upload;
  const started = await retrying(`${what} (starting a multipart upload)`, retry, () =>
    client.send(
      new CreateMultipartUploadCommand({
        Bucket,
        Key,
        StorageClass: upload.storageClass,
        Metadata: upload.metadata,
        ChecksumAlgorithm: "SHA256",
      }),
    ));
  const UploadId = started.UploadId;
  if (!UploadId) throw new Error(`${what}: S3 started a multipart upload without an id`);
  let completed = false;
  try {
    const parts = await uploadParts(client, { Bucket, Key, UploadId }, upload, plan, retry);
    const created = await retrying(`${what} (completing the upload)`, retry, async (attempt) => {
      try {
        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key,
            UploadId,
            MultipartUpload: { Parts: parts },
            IfNoneMatch: "*",
          }),
        );
        return true;
      } catch (e) {
        if (s3Code(e) === "PreconditionFailed") return false;
        if (s3Code(e) === "NoSuchUpload" && attempt > 1) return false;
        throw e;
      }
    });
    completed = created;
    return created;
  } finally {
    if (!completed) {
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => {});
    }
  }
}

async function uploadParts(
  client: S3Client,
  ids: { Bucket: string; Key: string; UploadId: string },
  upload: PartsUpload,
  plan: PartPlan,
  retry: RetryPolicy,
): Promise<CompletedPart[]> {
  const { data, what } = upload;
  const { partSize } = plan;
  const count = Math.ceil(data.byteLength / partSize);
  const parts: CompletedPart[] = new Array(count);
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < count) {
      const i = next++;
      const body = data.subarray(i * partSize, Math.min(data.byteLength, (i + 1) * partSize));
      const ChecksumSHA256 = createHash("sha256").update(body).digest("base64");
      try {
        const out = await retrying(`${what} (part ${i + 1} of ${count})`, retry, () =>
          client.send(
            new UploadPartCommand({ ...ids, PartNumber: i + 1, Body: body, ChecksumSHA256 }),
          ));
        parts[i] = { PartNumber: i + 1, ETag: out.ETag, ChecksumSHA256 };
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const lanes = await Promise.allSettled(
    Array.from({ length: Math.min(plan.concurrency, count) }, lane),
  );
  const failure = lanes.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure) throw failure.reason;
  return parts;
}
