/**
 * Errors that cross the host/plugin boundary.
 *
 * The RPC layer (`rpc.ts`) sends an error as `{ name, message }` and rebuilds it on the other side
 * with the class registered here under that `name`, so `instanceof` works on both sides.
 * Every message names the thing it is about in quotes, e.g. `object "packs/ab12…" not found`.
 *
 * @module
 */

/** The named object does not exist. Permanent: retrying will not help. */
export class ObjectNotFound extends Error {
  override name = "ObjectNotFound";
}

/** A create-only write found an object of that name holding different bytes. Permanent. */
export class ObjectExists extends Error {
  override name = "ObjectExists";
}

/** The object is in an archive tier and must be restored before it can be read (S3 cold tiers). */
export class NeedsRestore extends Error {
  override name = "NeedsRestore";
}

/** A call was made to a capability or method the caller was not granted. Permanent. */
export class CapabilityRefused extends Error {
  override name = "CapabilityRefused";
}

/** The key in use lacks the material for this operation (e.g. an ingest key asked to read). */
export class KeyCannotRead extends Error {
  override name = "KeyCannotRead";
}

/** A transient failure (network, throttling, busy); the caller may retry with backoff. */
export class TransientError extends Error {
  override name = "TransientError";
}

/** Error classes rebuilt by name when an error crosses a MessagePort. */
export const wireErrors: Record<string, new (message: string) => Error> = {
  ObjectNotFound,
  ObjectExists,
  NeedsRestore,
  CapabilityRefused,
  KeyCannotRead,
  TransientError,
};
