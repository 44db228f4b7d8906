/**
 * The ETag S3 computes for bytes this store uploads, so a create that finds its name taken can
 * tell "my own earlier try" from "someone else's object" with what a listing shows
 * (`s3:ListBucket`, which every role has, even one that may not read the object back).
 *
 * S3's ETag of an object stored without SSE-KMS or SSE-C is the MD5 of its bytes; of a
 * multipart upload, the MD5 of its parts' binary MD5s, then `-` and the part count. With
 * SSE-KMS or SSE-C it is something else: then only the recorded SHA-256 can say (`s3_store.ts`).
 * Pure functions, no I/O.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { uploadPlan, type UploadRule } from "../../sdk/storage.ts";

/**
 * The ETag (without quotes) S3 gives `data` uploaded by this store under `rule`: in one PUT or
 * in parts, as `uploadPlan` says.
 */
export function expectedETag(data: Uint8Array, rule: UploadRule): string {
  const plan = uploadPlan(data.byteLength, rule);
  if (plan.method === "put") return createHash("md5").update(data).digest("hex");
  const { partSize } = plan;
  const all = createHash("md5");
  let count = 0;
  for (let at = 0; at < data.byteLength; at += partSize, count++) {
    const part = data.subarray(at, Math.min(data.byteLength, at + partSize));
    all.update(createHash("md5").update(part).digest());
  }
  return `${all.digest("hex")}-${count}`;
}

/** An ETag as S3 sends it (`"abc…"`), without its quotes. */
export function unquote(etag: string | undefined): string | undefined {
  return etag?.replace(/^W\//, "").replace(/^"|"$/g, "");
}
