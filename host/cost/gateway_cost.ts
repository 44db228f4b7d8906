/**
 * What the append-only gateway and the versioned-bucket guard cost (docs/gateway.md "Cost"):
 * the gateway as a Fargate service running all month, the guard as a scheduled task's S3
 * requests. Pure functions of a price table.
 *
 * @module
 */

import { type Estimate, estimate, lineItem, noTime } from "./estimate.ts";
import { fargateItems } from "./fargate.ts";
import type { PriceTable } from "./price_table.ts";

/** Hours in an average month (365.25 × 24 / 12), as AWS bills a month of a running task. */
export const HOURS_PER_MONTH = 730;

/**
 * The gateway's Fargate task: it streams bodies through and keeps none, so the smallest size
 * that holds a 16 MiB `aws-chunked` chunk per upload with room (0.5 vCPU, 1 GB) serves a few
 * machines; give a larger one for many concurrent backups.
 */
export const GATEWAY_TASK = { vcpu: 0.5, memoryGB: 1 };

/**
 * §6.2 The gateway for a month: the task's vCPU and memory hours, and, when given, the S3
 * requests it forwards. Those are the backups' own requests, billed the same with or without
 * the gateway; they are listed so the month's total is in one place. Uploads and listings are
 * billed at the PUT rate of `putClass` (the cold class: most uploads are packs), reads at the
 * STANDARD GET rate.
 */
export function gatewayMonthEstimate(
  table: PriceTable,
  options: {
    task?: { vcpu: number; memoryGB: number };
    puts?: number;
    gets?: number;
    putClass?: keyof PriceTable["requests_per_1000"];
  } = {},
): Estimate {
  const task = options.task ?? GATEWAY_TASK;
  const items = fargateItems(HOURS_PER_MONTH, task, table);
  const putClass = options.putClass ?? "DEEP_ARCHIVE";
  if (options.puts) {
    items.push(
      lineItem(
        `PUT and LIST requests forwarded (${putClass})`,
        options.puts / 1000,
        "1,000 requests",
        table.requests_per_1000[putClass].put.value,
      ),
    );
  }
  if (options.gets) {
    items.push(
      lineItem(
        "GET and HEAD requests forwarded (STANDARD)",
        options.gets / 1000,
        "1,000 requests",
        table.requests_per_1000.STANDARD.get.value,
      ),
    );
  }
  return estimate(table, items, noTime);
}

/**
 * One run of the guard: its `ListObjectVersions` pages (1,000 versions each, billed as LIST
 * at the STANDARD PUT rate) and the version deletes that undo changes (DELETE is free).
 */
export function guardRunEstimate(
  table: PriceTable,
  plan: { listPages: number; deletes: number },
): Estimate {
  return estimate(table, [
    lineItem(
      "ListObjectVersions requests",
      plan.listPages / 1000,
      "1,000 requests",
      table.requests_per_1000.STANDARD.put.value,
    ),
    lineItem("DeleteObject (version) requests", plan.deletes, "request", 0),
  ], noTime);
}
