/**
 * Sizes, as the command line and the configuration file give them: `64MiB`, `1.5GB`, `4096`
 * (bytes). Binary (KiB, MiB, GiB, TiB) and decimal (KB, MB, GB, TB) units.
 *
 * @module
 */

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

export function parseSize(text: string): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new TypeError(
      `size "${text}" is not a number with an optional unit (KiB, MiB, GiB, TiB, KB, MB, GB, TB)`,
    );
  }
  return Math.round(Number(m[1]) * unit);
}
