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

/**
 * A key object or key file that belongs to another repository (docs/format.md §4.1, §4.2): its
 * message names it and both repositories. It can open nothing here, whatever the passphrase.
 */
export class ForeignKey extends Error {
  override name = "ForeignKey";
}

/**
 * No key object of the repository could be tried: each is damaged or belongs to another
 * repository (docs/format.md §4.1). The message names each object, what is wrong, what to do.
 */
export class NoUsableKey extends Error {
  override name = "NoUsableKey";
}

/**
 * A location that holds packs, index segments or snapshots but no `config` (docs/format.md §2):
 * a repository whose config was lost. `init` refuses it; the message says to put the kept copy
 * back. Permanent.
 */
export class ConfigMissing extends Error {
  override name = "ConfigMissing";
}
