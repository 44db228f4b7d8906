/**
 * What the model assumes that is not an AWS price (docs/cost-model.md §1): how long a month
 * is, how fast data moves, how big an in-region job is, and how Permafrost uploads. Each model
 * function takes these as a parameter, defaulting to {@link defaultAssumptions}.
 *
 * @module
 */

import { defaultUploadRule, type UploadRule } from "../../plugins/sdk/upload_plan.ts";
import type { HoursRange } from "../cold/restore_times.ts";

export interface Assumptions {
  /** Days in a billed month (§1.2). AWS prorates by the hour of the calendar month. */
  daysPerMonth: number;
  /** Transfer rate between S3 and a machine outside AWS, in Mbit/s (slow and fast end). */
  internetMbitPerS: { min: number; max: number };
  /** Rate at which one in-region job reads S3 and processes the data, in Mbit/s. */
  regionMbitPerS: { min: number; max: number };
  /** The Fargate task an in-region job runs as. */
  job: { vcpu: number; memoryGB: number };
  /**
   * How Permafrost's S3 back end uploads: objects above the threshold go in parts of
   * `partSize` bytes (`uploadPlan`, plugins/sdk/upload_plan.ts, which the store calls too).
   */
  upload: UploadRule;
}

export const defaultAssumptions: Assumptions = {
  daysPerMonth: 30,
  internetMbitPerS: { min: 100, max: 1000 },
  regionMbitPerS: { min: 1000, max: 5000 },
  job: { vcpu: 2, memoryGB: 4 },
  // The S3 back end's default rule (plugins/storage/s3/s3_config.ts).
  upload: defaultUploadRule,
};

/** §1.3: hours to move `bytes` at a rate between `mbit.min` and `mbit.max` Mbit/s. */
export function transferHours(bytes: number, mbit: { min: number; max: number }): HoursRange {
  const hoursAt = (rate: number) => (bytes * 8) / (rate * 1e6) / 3600;
  return { min: hoursAt(mbit.max), max: hoursAt(mbit.min) };
}

/** §1.2: `days` as billed months. */
export function daysToMonths(days: number, a: Assumptions = defaultAssumptions): number {
  return days / a.daysPerMonth;
}
