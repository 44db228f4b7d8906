/**
 * How the numbers of estimates read for people: dollars, hour ranges, byte counts. The CLI and
 * the web view both use these, so a page and the terminal say the same thing.
 *
 * @module
 */

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

/** Human byte counts: 1.5 KiB, 20.0 MiB. */
export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${units[i]}`;
}
