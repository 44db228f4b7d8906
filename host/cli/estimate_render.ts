/**
 * How an estimate is printed for people: a title, an aligned table of its lines, the total,
 * the time range and the price table used. Shared by `estimate` and every `--estimate`.
 *
 * @module
 */

import type { Estimate, PriceTable } from "../cost/mod.ts";
import { hoursText, usd } from "../cost/format.ts";

/**
 * The human estimate: a title, an aligned table of the lines, the total, time and prices.
 * `timeOf` says what the time is the time of ("the upload, at 100-1,000 Mbit/s").
 */
export function render(title: string, e: Estimate, table: PriceTable, timeOf?: string): string {
  const header = ["what", "quantity", "unit", "unit price", "usd"];
  const rows = e.items.map((
    i,
  ) => [i.what, count(i.quantity), i.unit, price(i.unit_usd), usd(i.usd)]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => c === 0 || c === 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))
      .join("  ").trimEnd();
  const tableWidth = widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  const total = usd(e.total_usd);
  return [
    `estimate: ${title}`,
    "",
    line(header),
    ...(rows.length ? rows.map(line) : ["(nothing to pay)"]),
    "-".repeat(tableWidth),
    "total".padEnd(tableWidth - total.length) + total,
    "",
    `time:   ${hoursText(e.hours)}${timeOf ? ` (${timeOf})` : ""}`,
    `prices: ${e.prices.region}, ${table.name}, as of ${e.prices.date} (${e.prices.source})`,
  ].join("\n");
}

/** 12,288 or 0.16 or 147.456: grouped, at most six decimals. */
function count(n: number): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: 6 });
}

/** A unit price as given: $0.00099, $0.05, $10. */
function price(n: number): string {
  return `$${n.toLocaleString("en-US", { maximumFractionDigits: 8 })}`;
}

export { hoursText, usd } from "../cost/format.ts";
