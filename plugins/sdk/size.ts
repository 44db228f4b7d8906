/**
 * Sizes, as the command line, the configuration file and an engine's options give them:
 * `64MiB`, `1.5GB`, `4096` (bytes). Binary (KiB, MiB, GiB, TiB) and decimal (KB, MB, GB, TB)
 * units, in any case.
 *
 * @module
 */

/** The units a size may name, as messages list them. */
export const SIZE_UNITS = "KiB, MiB, GiB, TiB, KB, MB, GB, TB";

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
};

/** The bytes `text` names, or `undefined` when it is not a size (for callers' own messages). */
export function readSize(text: string): number | undefined {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  return m && unit !== undefined ? Math.round(Number(m[1]) * unit) : undefined;
}

/** The bytes `text` names; a `TypeError` naming it and the units when it is not a size. */
export function parseSize(text: string): number {
  const bytes = readSize(text);
  if (bytes === undefined) {
    throw new TypeError(`size "${text}" is not a number with an optional unit (${SIZE_UNITS})`);
  }
  return bytes;
}
