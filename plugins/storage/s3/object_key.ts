/**
 * How the S3 store maps object names to keys: `<keyPrefix><name>`, where `keyPrefix` is the
 * repository's prefix with a trailing `/` (or `""` for a repository at the bucket's root).
 * Names are the layout's `/`-separated relative names; anything else is refused before it
 * reaches S3, so a name can never address a key outside the prefix.
 *
 * @module
 */

/** S3's limit on a key's length, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;

/**
 * Checks an object name: a non-empty `/`-separated path with no empty, `.` or `..` segment
 * and no `\` or NUL. Throws `TypeError` naming the object otherwise.
 */
export function checkName(name: unknown): asserts name is string {
  if (
    typeof name !== "string" || name === "" || /[\\\0]/.test(name) ||
    !name.split("/").every((s) => s !== "" && s !== "." && s !== "..")
  ) {
    throw new TypeError(`object name "${name}" is not valid`);
  }
}

/** The key of a checked object name under `keyPrefix`; `TypeError` if S3 would refuse it. */
export function objectKey(keyPrefix: string, name: string): string {
  checkName(name);
  const key = keyPrefix + name;
  if (new TextEncoder().encode(key).byteLength > MAX_KEY_BYTES) {
    throw new TypeError(`object name "${name}" makes a key longer than S3 allows (1024 bytes)`);
  }
  return key;
}

/** The object name of a listed key, or `undefined` for a key outside `keyPrefix`. */
export function objectName(keyPrefix: string, key: string): string | undefined {
  return key.startsWith(keyPrefix) && key.length > keyPrefix.length
    ? key.slice(keyPrefix.length)
    : undefined;
}
