/**
 * How numbers read on the pages: dollars, byte counts, hour ranges (host/cost/format.ts, which
 * the CLI uses too, so a page and the terminal say the same thing), and shares.
 *
 * @module
 */

export { bytes, hoursText, usd } from "../cost/format.ts";

/** A share (0..1) as a percentage with one decimal: `12.5%`. */
export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
