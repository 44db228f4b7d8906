/**
 * An in-region job's compute (docs/cost-model.md §6.2): a Fargate task of the assumed size,
 * billed per vCPU-hour and per GB-hour of memory for as long as it runs.
 *
 * @module
 */

import type { Assumptions } from "./assumptions.ts";
import { type LineItem, lineItem } from "./estimate.ts";
import type { PriceTable } from "./price_table.ts";

/** §6.2 A Fargate task of `job`'s size running `hours`: a vCPU line and a memory line. */
export function fargateItems(
  hours: number,
  job: Assumptions["job"],
  table: PriceTable,
): LineItem[] {
  return [
    lineItem(
      `Fargate task, ${job.vcpu} vCPU`,
      job.vcpu * hours,
      "vCPU-hour",
      table.fargate.vcpu_hour.value,
    ),
    lineItem(
      `Fargate task, ${job.memoryGB} GB memory`,
      job.memoryGB * hours,
      "GB-hour",
      table.fargate.gb_hour.value,
    ),
  ];
}
