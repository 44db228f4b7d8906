/**
 * The shape every estimate has (docs/cost-model.md §2.3), and the small helpers that build
 * it: a line item is `quantity × unit_usd = usd`; a price with bands (storage, egress) becomes
 * one line per band used; the total is the sum of the lines.
 *
 * Dollars are rounded to a millionth per line (so a line of $0.000064 stays visible), and the
 * total is the rounded sum of the rounded lines, so the lines always add up to it.
 *
 * @module
 */

import type { HoursRange } from "../cold/restore_times.ts";
import type { PriceTable, Tier } from "./price_table.ts";

export type { HoursRange };

/** One line of an estimate. */
export interface LineItem {
  what: string;
  quantity: number;
  unit: string;
  unit_usd: number;
  usd: number;
}

/** An itemised estimate: what it costs, how long it takes, and which prices it used. */
export interface Estimate {
  total_usd: number;
  hours: HoursRange;
  items: LineItem[];
  prices: { region: string; date: string; source: string };
}

/** Rounds to a millionth (of a dollar, an hour or a unit). */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** A line: `quantity` `unit`s at `unitUsd` each. */
export function lineItem(what: string, quantity: number, unit: string, unitUsd: number): LineItem {
  return {
    what,
    quantity: round6(quantity),
    unit,
    unit_usd: unitUsd,
    usd: round6(quantity * unitUsd),
  };
}

/**
 * §2.2 Banded prices: `gb` split over `tiers` (each band's `up_to_gb` is cumulative), one line
 * per band used, each band's GB multiplied by `multiplier` (months, for storage). The band is
 * named in `what` only when the price has more than one band.
 */
export function tieredItems(
  what: string,
  gb: number,
  tiers: Tier[],
  unit: string,
  multiplier = 1,
): LineItem[] {
  const items: LineItem[] = [];
  let from = 0;
  for (const tier of tiers) {
    const to = tier.up_to_gb ?? Infinity;
    const inBand = Math.max(0, Math.min(gb, to) - from);
    if (inBand > 0 || (items.length === 0 && gb === 0)) {
      const band = tiers.length === 1 ? "" : ` (${bandName(from, tier.up_to_gb)})`;
      items.push(lineItem(`${what}${band}`, inBand * multiplier, unit, tier.usd.value));
    }
    if (gb <= to) break;
    from = to;
  }
  return items;
}

/** "first 10 TB", "10-50 TB", "over 150 TB" (AWS bands are in TB of 1,024 GB). */
function bandName(fromGB: number, toGB: number | null): string {
  const tb = (gb: number) => `${+(gb / 1024).toFixed(3)}`;
  if (toGB === null) return `over ${tb(fromGB)} TB`;
  return fromGB === 0 ? `first ${tb(toGB)} TB` : `${tb(fromGB)}-${tb(toGB)} TB`;
}

/** Adds two time ranges (one step after the other). */
export function addHours(a: HoursRange, b: HoursRange): HoursRange {
  return { min: a.min + b.min, max: a.max + b.max };
}

export const noTime: HoursRange = { min: 0, max: 0 };

/** The estimate of `items`, taking `hours`, priced from `table`. */
export function estimate(table: PriceTable, items: LineItem[], hours: HoursRange): Estimate {
  return {
    total_usd: round6(items.reduce((sum, item) => sum + item.usd, 0)),
    hours: { min: round6(hours.min), max: round6(hours.max) },
    items,
    prices: { region: table.region, date: table.date, source: table.origin },
  };
}

/** Bytes as billed GB (`rules.gb_bytes`, 2^30). */
export function toGB(bytes: number, table: PriceTable): number {
  return bytes / table.rules.gb_bytes.value;
}
