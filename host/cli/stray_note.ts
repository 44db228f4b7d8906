/**
 * How `check` prints what interrupted writes left in the store (host/ops/strays.ts): a note,
 * not a problem, saying what removes them.
 *
 * @module
 */

import type { StrayReport } from "../ops/strays.ts";
import { bytes } from "./context.ts";

/** Zero or one line about `report`. */
export function strayNote(report: StrayReport): string[] {
  if (report.refused !== undefined) {
    return [`note: interrupted uploads could not be listed: ${report.refused}`];
  }
  if (report.count === 0) return [];
  const oldest = report.oldest ? `, the oldest from ${report.oldest.slice(0, 10)}` : "";
  return [
    `note: ${report.count} partial uploads left by interrupted writes (${
      bytes(report.bytes)
    }${oldest}): \`permafrost gc purge\` removes those older than its grace period`,
  ];
}
