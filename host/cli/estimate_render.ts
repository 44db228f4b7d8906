/**
 * How an estimate is printed for people: a title, an aligned table of its lines, the total,
 * the time range and the price table used. Shared by `estimate` and every `--estimate`.
 *
 * @module
 */

import type { Estimate, PriceTable } from "../cost/mod.ts";

/** The human estimate: a title, an aligned table of the lines, the total, time and prices. */
export function render(title: string, e: Estimate, table: PriceTable): string {
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
    `time:   ${hoursText(e.hours)}`,
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

/** Dollars: cents from a dollar up, four decimals below ($0.0233), then two digits ($0.000064). */
export function usd(n: number): string {
  if (n === 0) return "$0.00";
  if (Math.abs(n) >= 1) {
    return `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  }
  return Math.abs(n) >= 0.0001
    ? `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 4 })}`
    : `$${Number(n.toPrecision(2))}`;
}

/** "no waiting", "1-5 minutes", "3.3-5.2 hours", "1 minute to 48.2 hours (up to 2.0 days)". */
export function hoursText(h: { min: number; max: number }): string {
  if (h.max === 0) return "no waiting";
  const minutes = (x: number) => {
    const m = Math.max(1, Math.round(x * 60));
    return `${m} minute${m === 1 ? "" : "s"}`;
  };
  if (h.max < 1) {
    return Math.round(h.min * 60) === Math.max(1, Math.round(h.max * 60))
      ? minutes(h.max)
      : `${Math.round(h.min * 60)}-${minutes(h.max)}`;
  }
  const days = h.max >= 48 ? ` (up to ${(h.max / 24).toFixed(1)} days)` : "";
  if (h.min < 0.1) return `${minutes(h.min)} to ${h.max.toFixed(1)} hours${days}`;
  if (h.min.toFixed(1) === h.max.toFixed(1)) return `${h.max.toFixed(1)} hours${days}`;
  return `${h.min.toFixed(1)}-${h.max.toFixed(1)} hours${days}`;
}
