/**
 * The `s3` plugin's config, as `host/storage/s3_location.ts` sends it:
 * `{ bucket, keyPrefix, region, endpoint, pathStyle }`, plus, for tests and for a flaky link,
 * `retry` (`{ attempts, baseMs, maxMs }`), `multipartThreshold` and `partSize` (the upload rule
 * of `plugins/sdk/upload_plan.ts`: objects up to the threshold go up in one PutObject, larger
 * ones in parts; each 5 MiB to 5 GiB) and `partConcurrency` (parts sent at a time). Defaults:
 * `retry.ts`'s policy, `defaultUploadRule` (96 MiB, 96 MiB), 4. The cost model prices the
 * default rule (docs/cost-model.md §3.4): a store configured otherwise makes other requests than
 * its estimates count. No credentials: those come from the host's `credentials` capability,
 * and a config naming any other field is refused.
 *
 * @module
 */

import { defaultUploadRule, s3UploadLimits } from "../../sdk/storage.ts";
import { defaultRetry, type RetryPolicy } from "./retry.ts";

/** The checked config. */
export interface S3Config {
  bucket: string;
  keyPrefix: string;
  region: string;
  endpoint: string;
  pathStyle: boolean;
  retry: RetryPolicy;
  multipartThreshold: number;
  partSize: number;
  partConcurrency: number;
}

/** Checks the host's config; `TypeError` naming the first bad field. */
export function checkConfig(config: unknown): S3Config {
  const bad = (field: string, why: string) =>
    new TypeError(`storage "s3" config "${field}" ${why}`);
  if (typeof config !== "object" || config === null) {
    throw new TypeError(`storage "s3" needs a config object (bucket, keyPrefix, region, ...)`);
  }
  const c = config as Record<string, unknown>;
  const known = [
    "bucket",
    "keyPrefix",
    "region",
    "endpoint",
    "pathStyle",
    "retry",
    "multipartThreshold",
    "partSize",
    "partConcurrency",
  ];
  for (const key of Object.keys(c)) {
    if (!known.includes(key)) throw new TypeError(`storage "s3" has no option "${key}"`);
  }
  for (const field of ["bucket", "region", "endpoint"]) {
    if (typeof c[field] !== "string" || c[field] === "") throw bad(field, "must be a string");
  }
  if (typeof c.keyPrefix !== "string" || !(c.keyPrefix === "" || c.keyPrefix.endsWith("/"))) {
    throw bad("keyPrefix", `must be "" or end with "/"`);
  }
  if (typeof c.pathStyle !== "boolean") throw bad("pathStyle", "must be true or false");
  const count = (field: string, value: unknown, fallback: number, min: number, max?: number) => {
    if (value === undefined) return fallback;
    if (!Number.isSafeInteger(value) || (value as number) < min) {
      throw bad(field, `must be a whole number of at least ${min}`);
    }
    if (max !== undefined && (value as number) > max) {
      throw bad(field, `must be at most ${max} (S3's limit)`);
    }
    return value as number;
  };
  const { minPartBytes, maxPartBytes, maxPutBytes } = s3UploadLimits;
  const r = (c.retry ?? {}) as Record<string, unknown>;
  if (typeof r !== "object" || r === null) throw bad("retry", "must be an object");
  return {
    bucket: c.bucket as string,
    keyPrefix: c.keyPrefix,
    region: c.region as string,
    endpoint: c.endpoint as string,
    pathStyle: c.pathStyle,
    retry: {
      attempts: count("retry.attempts", r.attempts, defaultRetry.attempts, 1),
      baseMs: count("retry.baseMs", r.baseMs, defaultRetry.baseMs, 0),
      maxMs: count("retry.maxMs", r.maxMs, defaultRetry.maxMs, 0),
    },
    multipartThreshold: count(
      "multipartThreshold",
      c.multipartThreshold,
      defaultUploadRule.multipartThreshold,
      minPartBytes,
      maxPutBytes,
    ),
    partSize: count("partSize", c.partSize, defaultUploadRule.partSize, minPartBytes, maxPartBytes),
    partConcurrency: count("partConcurrency", c.partConcurrency, 4, 1),
  };
}
