/**
 * Retrying S3 requests: which failures are worth another try, and how long to wait.
 *
 * Transient: throttling (`SlowDown`, HTTP 429/503), other 5xx answers but 501, request
 * timeouts and clock skew, the 409 conflicts S3 answers while another conditional write to
 * the same key is in flight (`ConditionalRequestConflict`, `OperationAborted`), and network
 * failures (connection refused/reset, socket timeouts). Everything else is permanent and is
 * thrown at once. Waits are exponential with full jitter (a random delay up to
 * `baseMs * 2^(attempt-1)`, capped at `maxMs`), so many writers backing off do not retry in
 * step. The SDK's own retries are off (`maxAttempts: 1`): this is the one retry layer.
 *
 * @module
 */

import { TransientError } from "../../sdk/storage.ts";
import { describeError, httpStatus, networkCode } from "./s3_errors.ts";

/** How often and how patiently to retry. */
export interface RetryPolicy {
  /** Tries in all, the first included (at least 1). */
  attempts: number;
  /** The first wait's upper bound, in milliseconds. */
  baseMs: number;
  /** No wait is longer than this, in milliseconds. */
  maxMs: number;
}

/** 8 tries over up to ~13 s of waiting (S3 asks clients to back off on `SlowDown`). */
export const defaultRetry: RetryPolicy = { attempts: 8, baseMs: 100, maxMs: 20_000 };

const TRANSIENT_CODES = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "RequestThrottled",
  "TooManyRequestsException",
  "RequestTimeout",
  "RequestTimeTooSkewed",
  "InternalError",
  "ServiceUnavailable",
  "ConditionalRequestConflict",
  "OperationAborted",
]);

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENETDOWN",
  "ENETUNREACH",
  "EHOSTUNREACH",
]);

/**
 * Whether another try of the same request may succeed. A `TransientError` thrown by the
 * request itself (a body that ended early) counts too.
 */
export function isTransient(e: unknown): boolean {
  if (e instanceof TransientError) return true;
  const status = httpStatus(e);
  if (status !== undefined) {
    return TRANSIENT_CODES.has((e as Error).name) || status === 429 ||
      (status >= 500 && status !== 501);
  }
  if (e instanceof Error && e.name === "TimeoutError") return true; // the SDK's socket timeouts
  const code = networkCode(e);
  return code !== undefined && NETWORK_CODES.has(code);
}

/** The wait before try `attempt + 1` (full jitter); `random` is in [0, 1). */
export function backoffMs(attempt: number, policy: RetryPolicy, random = Math.random()): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random * ceiling);
}

/**
 * Runs `request` (given the try number, from 1) until it succeeds, throws a permanent error
 * (rethrown as is), or has failed `policy.attempts` times with transient errors: then it
 * rejects with `TransientError` saying what (`what`, e.g. `PUT of object "config"`) failed
 * and the last reason.
 */
export async function retrying<T>(
  what: string,
  policy: RetryPolicy,
  request: (attempt: number) => Promise<T>,
): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await request(attempt);
    } catch (e) {
      if (!isTransient(e)) throw e;
      if (attempt >= policy.attempts) {
        throw new TransientError(
          `${what} failed ${attempt} times (last: ${describeError(e)}); try again later`,
        );
      }
      await new Promise((r) => setTimeout(r, backoffMs(attempt, policy)));
    }
  }
}
