/**
 * Moving data out of S3 (docs/cost-model.md §4.4): to the internet, the monthly free allowance
 * first, then the price bands; to EC2 or Fargate in the bucket's region, free.
 *
 * @module
 */

import { type LineItem, lineItem, tieredItems } from "./estimate.ts";
import type { PriceTable } from "./price_table.ts";

/** Where restored data goes: a machine outside AWS, or a job in the bucket's region. */
export type Destination = "internet" | "region";

/**
 * §4.4 Internet egress of `gb`: the part within `freeGB` (default: the table's monthly
 * allowance, 100 GB; pass less if the month's allowance is partly used) at $0, the rest over
 * the bands.
 */
export function internetEgressItems(
  gb: number,
  table: PriceTable,
  freeGB = table.egress_internet.free_gb_month.value,
): LineItem[] {
  const free = Math.min(gb, Math.max(0, freeGB));
  const items: LineItem[] = [];
  if (free > 0) items.push(lineItem("internet egress, monthly free allowance", free, "GB", 0));
  if (gb > free || gb === 0) {
    items.push(...tieredItems("internet egress", gb - free, table.egress_internet.tiers, "GB"));
  }
  return items;
}

/** §4.4 Transfer to EC2 or Fargate in the same region: one line, priced (at $0) by the table. */
export function sameRegionItem(gb: number, table: PriceTable): LineItem {
  return lineItem(
    `transfer to EC2/Fargate in ${table.region}`,
    gb,
    "GB",
    table.egress_same_region_per_gb.value,
  );
}

/** §4.4 Egress of `gb` to `to`. */
export function egressItems(
  gb: number,
  to: Destination,
  table: PriceTable,
  freeGB?: number,
): LineItem[] {
  return to === "internet" ? internetEgressItems(gb, table, freeGB) : [sameRegionItem(gb, table)];
}
