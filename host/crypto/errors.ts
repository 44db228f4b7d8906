/**
 * Errors raised by the crypto primitives.
 *
 * @module
 */

/**
 * Authenticated data did not verify: it was altered, truncated, or opened with the wrong key.
 * Permanent: retrying with the same bytes and key gives the same result. The primitives name
 * nothing (they do not know what the bytes are); callers add the object or blob in quotes.
 */
export class IntegrityError extends Error {
  override name = "IntegrityError";
}
