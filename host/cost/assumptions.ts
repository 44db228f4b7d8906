/**
 * What the model assumes that is not an AWS price (docs/cost-model.md §1): how long a month
 * is, how fast data moves, how big an in-region job is, and how Permafrost uploads. Each model
 * function takes these as a parameter, defaulting to {@link defaultAssumptions}.
 *
 * @module
 */

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
  /** Permafrost's S3 uploads: objects above the threshold go in parts of `partSize` bytes. */
  upload: { multipartThreshold: number; partSize: number };
}

const MiB = 2 ** 20;

export const defaultAssumptions: Assumptions = {
  daysPerMonth: 30,
  internetMbitPerS: { min: 100, max: 1000 },
  regionMbitPerS: { min: 1000, max: 5000 },
  job: { vcpu: 2, memoryGB: 4 },
  // The S3 back end's defaults: plugins/storage/s3/s3_config.ts (multipartThreshold, partSize).
  upload: { multipartThreshold: 16 * MiB, partSize: 8 * MiB },
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
