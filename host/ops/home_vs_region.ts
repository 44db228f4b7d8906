/**
 * "At home or in the region": one operation's estimate both ways (docs/in-region.md §1), for
 * the lines `--emit-job` and the estimates of rebuild and compaction print. Reuses the cost
 * model's two destinations (docs/cost-model.md §4.4, §6.2); no I/O.
 *
 * @module
 */

import type { Destination } from "../cost/egress.ts";
import type { Estimate } from "../cost/estimate.ts";

/** The two sides of {@link homeVsRegion}. */
export interface HomeVsRegion {
  home: Estimate;
  region: Estimate;
  /** Lines for people: each side's total and time, and what the region saves. */
  lines: string[];
}

/**
 * The "at home or in the region" comparison of one operation: `estimateAt` gives its estimate
 * for a destination (e.g. `(to) => estimateRebuild({ ...plan, to }, table)`, whose two sides
 * docs/cost-model.md §6.2 describes). Lines like "at home (internet egress): $88.28, 2.4 to 72.4
 * hours" and "in the region saves $82.92 (94%)".
 */
export function homeVsRegion(estimateAt: (to: Destination) => Estimate): HomeVsRegion {
  const home = estimateAt("internet");
  const region = estimateAt("region");
  const diff = home.total_usd - region.total_usd;
  const share = home.total_usd > 0 ? Math.round(Math.abs(diff) / home.total_usd * 100) : 0;
  const labels = ["at home (internet egress):", `in ${region.prices.region} (Fargate job):`];
  const width = Math.max(...labels.map((l) => l.length));
  const side = (label: string, e: Estimate) =>
    `${label.padEnd(width)} ${dollars(e.total_usd)}, ${hours(e.hours)}`;
  return {
    home,
    region,
    lines: [
      side(labels[0], home),
      side(labels[1], region),
      diff > 0
        ? `in the region saves ${dollars(diff)} (${share}%)`
        : diff < 0
        ? `at home costs ${dollars(-diff)} less (${share}%): the job's compute outweighs the egress`
        : "both cost the same",
    ],
  };
}

/** $88.28, $0.0521, $0.000064. */
function dollars(n: number): string {
  if (n >= 1) return `$${n.toFixed(2)}`;
  if (n >= 0.0001) return `$${n.toFixed(4)}`;
  return `$${Number(n.toPrecision(2))}`;
}

/** "2.4 to 72.4 hours", "1 to 15 minutes". */
function hours(h: { min: number; max: number }): string {
  if (h.max < 1) {
    return `${Math.round(h.min * 60)} to ${Math.max(1, Math.round(h.max * 60))} minutes`;
  }
  return `${h.min.toFixed(1)} to ${h.max.toFixed(1)} hours`;
}
