/**
 * Reading the errors the AWS SDK throws, and turning the permanent ones into errors that name
 * the object and say what to do. An S3 error carries its code as `name` and the HTTP status in
 * `$metadata.httpStatusCode`; a network error has no status but a Node-style `code`
 * (`ECONNREFUSED`, ...). Pure functions, no I/O.
 *
 * @module
 */

import { TransientError } from "../../sdk/storage.ts";

/** The HTTP status of an S3 error response, or `undefined` if no response came back. */
export function httpStatus(e: unknown): number | undefined {
  const status = (e as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata
    ?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

/** The S3 error code (`NoSuchKey`, `PreconditionFailed`, ...) of an error response. */
export function s3Code(e: unknown): string | undefined {
  return httpStatus(e) !== undefined && e instanceof Error ? e.name : undefined;
}

/** The Node-style code of a network error (`ECONNRESET`, ...), if any. */
export function networkCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return httpStatus(e) === undefined && typeof code === "string" ? code : undefined;
}

/** What to call an error response that carries no code, by its HTTP status. */
const statusNames: Record<number, string> = {
  400: "BadRequest",
  403: "Forbidden",
  404: "NotFound",
  409: "Conflict",
  412: "PreconditionFailed",
  500: "InternalError",
  503: "ServiceUnavailable",
};

/**
 * One line saying what went wrong: `SlowDown (HTTP 503): Please reduce your request rate`.
 * A response without a body (every HEAD) has no error code, which the SDK reports as
 * `Unknown`/`UnknownError`: it is named by its status instead, `Forbidden (HTTP 403)`.
 */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const status = httpStatus(e);
  if (status !== undefined) {
    const unknown = e.name === "Unknown" || e.name === "UnknownError";
    const name = unknown ? statusNames[status] ?? "no error code" : e.name;
    const message = e.message && e.message !== "UnknownError" ? `: ${e.message}` : "";
    return `${name} (HTTP ${status})${message}`;
  }
  const text = e.message ? `${e.name}: ${e.message}` : e.name;
  return untrustedCertificate(e) ? `${text}. ${CERTIFICATE_HINT}` : text;
}

/**
 * What to do when the endpoint's certificate does not verify: behind a company proxy or with a
 * private CA, Node's `NODE_EXTRA_CA_CERTS` names the PEM file of the CA to trust as well. (This
 * runs in the plugin's worker, which may not read that variable: the hint covers both cases.)
 */
const CERTIFICATE_HINT = "The endpoint's certificate is not trusted: if a proxy or a private " +
  "CA signs it, set NODE_EXTRA_CA_CERTS to that CA's PEM file (read when the command starts; " +
  "if it is set, check that the file exists and holds that CA)";

/** Whether `e` says a TLS certificate did not verify (Node's codes, or rustls' words). */
function untrustedCertificate(e: Error): boolean {
  const code = (e as { code?: unknown }).code;
  return (typeof code === "string" && /CERT|UNABLE_TO_VERIFY|SELF_SIGNED/.test(code)) ||
    /unable to verify|self[- ]signed certificate|invalid peer certificate|UnknownIssuer/i
      .test(e.message);
}

/**
 * The error to report for a failed request that retrying will not cure. `TransientError`s and
 * errors without an S3 response or network code (a permission the worker lacks, `TypeError`,
 * the errors of `errors.ts`) pass as they are, keeping their class; access refusals become
 * `PermissionDenied`, a missing bucket `NotFound`, anything else an `Error`, each naming
 * `what` (e.g. `PUT of object "config"`).
 */
export function permanentError(what: string, e: unknown, bucket: string): unknown {
  if (!(e instanceof Error) || e instanceof TransientError) return e;
  const status = httpStatus(e);
  if (status === undefined) {
    return networkCode(e) === undefined ? e : new Error(`${what} failed: ${describeError(e)}`);
  }
  if (e.name === "NoSuchBucket") {
    return new Deno.errors.NotFound(
      `${what} failed: bucket "${bucket}" does not exist; create it first (docs/s3.md)`,
    );
  }
  if (e.name === "AccessDenied" || status === 403) {
    return new Deno.errors.PermissionDenied(
      `${what} was refused (${describeError(e)}): the AWS credentials in use lack this ` +
        `permission; check the IAM policy of the role they belong to (docs/s3.md §3)`,
    );
  }
  return new Error(`${what} failed: ${describeError(e)}`);
}
