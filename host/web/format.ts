/**
 * How numbers read on the pages: dollars, byte counts, hour ranges. The CLI's own helpers
 * (`bytes`, `usd`, `hoursText`) are reused so a page and the terminal say the same thing.
 *
 * @module
 */

export { bytes } from "../cli/context.ts";
export { hoursText, usd } from "../cli/estimate_render.ts";

/** A share (0..1) as a percentage with one decimal: `12.5%`. */
export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
