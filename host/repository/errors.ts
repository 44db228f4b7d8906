/**
 * Errors raised by the repository codecs.
 *
 * @module
 */

/**
 * Bytes that authenticate (or need no authentication) but do not follow docs/format.md: bad
 * magic, unknown version, a missing or ill-typed field, trailing bytes. The message names the
 * object and the field in quotes. Permanent.
 */
export class FormatError extends Error {
  override name = "FormatError";
}

/** The passphrase does not open a key file: `the passphrase does not open key "<id>"`. */
export class WrongPassphrase extends Error {
  override name = "WrongPassphrase";
}
