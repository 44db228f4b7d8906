/**
 * How an object goes up to S3: in one `PutObject`, or as a multipart upload in parts. This one
 * pure function decides, and both sides call it: the `s3` storage plugin, which uploads, and
 * the host's cost model, which prices the uploads (docs/cost-model.md §3.4), so an estimate
 * counts exactly the requests the store makes. Why the rule is what it is, with measurements:
 * docs/s3.md "Uploads" and docs/cost-model.md §3.7.
 *
 * The rule: an object of up to `multipartThreshold` bytes goes up in one `PutObject` (one
 * request, at the object's class's rate). A larger one goes up in parts of `partSize` bytes
 * (the last one smaller): `CreateMultipartUpload`, one `UploadPart` per part and
 * `CompleteMultipartUpload`. Parts are never smaller than S3's 5 MiB, and grow beyond
 * `partSize` only when 10,000 parts would not hold the object. An object that would fit in
 * one part goes up in one `PutObject` instead (as many bytes at stake on a failure, two
 * requests fewer); one over 5 GiB, S3's largest `PutObject`, always goes in parts.
 *
 * @module
 */

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** What S3 allows (the S3 User Guide, "Amazon S3 multipart upload limits"). */
export const s3UploadLimits = {
  /** The largest object one `PutObject` may create. */
  maxPutBytes: 5 * GiB,
  /** The smallest part but the last. */
  minPartBytes: 5 * MiB,
  /** The largest part. */
  maxPartBytes: 5 * GiB,
  /** The most parts one upload may have. */
  maxParts: 10_000,
} as const;

/** When an object goes up in parts, and in which. */
export interface UploadRule {
  /** Objects of up to this many bytes go up in one `PutObject` (5 MiB to 5 GiB). */
  multipartThreshold: number;
  /** Larger objects go up in parts of this many bytes (5 MiB to 5 GiB). */
  partSize: number;
}

/**
 * The default: 96 MiB, both. Every pack of the default sizes (64 MiB data, 8 MiB metadata, each
 * at most one chunk more) is one `PutObject`; a failed request re-sends at most 96 MiB, about
 * 8 seconds at the cost model's slow end (100 Mbit/s, docs/cost-model.md §1.3).
 */
export const defaultUploadRule: UploadRule = {
  multipartThreshold: 96 * MiB,
  partSize: 96 * MiB,
};

/** How one object goes up, and how many PUT-class requests that takes. */
export type UploadPlan =
  | { method: "put"; requests: 1 }
  | {
    method: "parts";
    /** Bytes of every part but the last. */
    partSize: number;
    parts: number;
    /** `parts + 2`: the create, the parts, the completion. */
    requests: number;
  };

/**
 * How an object of `size` bytes goes up under `rule` (see the module doc). `size` may be a
 * mean (the cost model prices equal objects of `bytes / objects`). `RangeError` for a size
 * that is not a finite number of at least 0, or larger than 10,000 parts of 5 GiB.
 */
export function uploadPlan(size: number, rule: UploadRule): UploadPlan {
  if (!Number.isFinite(size) || size < 0) {
    throw new RangeError(`object size "${size}" is not a number of bytes`);
  }
  const { maxPutBytes, maxParts, minPartBytes, maxPartBytes } = s3UploadLimits;
  if (size <= rule.multipartThreshold && size <= maxPutBytes) return { method: "put", requests: 1 };
  const partSize = Math.max(rule.partSize, minPartBytes, Math.ceil(size / maxParts));
  if (partSize > maxPartBytes) {
    throw new RangeError(`an object of ${size} bytes is larger than S3 can store`);
  }
  const parts = Math.ceil(size / partSize);
  if (parts <= 1 && size <= maxPutBytes) return { method: "put", requests: 1 };
  return { method: "parts", partSize, parts, requests: parts + 2 };
}
