/**
 * What an in-region job costs when it runs on EC2 instead of Fargate (docs/in-region.md §4,
 * §7), and the disk a Fargate task pays for beyond its 20 GiB: the instance type for a job's
 * size ({@link chooseInstance}: the cheapest x86 type of `prices/ec2_jobs.json` with the vCPU
 * and the memory), and the lines of a run ({@link ec2Items}: instance-hours and the gp3 root
 * volume; {@link fargateStorageItems}). On-demand Linux prices, billed per second with a
 * minimum of 60 seconds (EC2 and EBS alike).
 *
 * @module
 */

import { type LineItem, lineItem } from "./estimate.ts";
import type { Figure } from "./price_table.ts";
import file from "./prices/ec2_jobs.json" with { type: "json" };

/** One instance type and its on-demand price. */
export interface Ec2Instance {
  type: string;
  vcpu: number;
  memoryGiB: number;
  /** USD per hour. */
  hour: number;
  /** The per-vCPU figure the price comes from. */
  figure: Figure;
}

/** A region's EC2 job prices. */
export interface Ec2Prices {
  region: string;
  /** Every type, cheapest first. */
  instances: Ec2Instance[];
  ebsGp3GbMonth: Figure;
  /** Fargate ephemeral storage beyond the 20 GiB every task has. */
  fargateStorageGbHour: Figure;
}

/** A region's entry of `prices/ec2_jobs.json`. */
interface RegionPrices {
  per_vcpu_hour: Record<string, Figure>;
  ebs_gp3_gb_month: Figure;
  fargate_storage_gb_hour: Figure;
}

/** The shipped EC2 job prices of `region`; a `RangeError` naming the known regions for others. */
export function ec2Prices(region: string): Ec2Prices {
  const r = (file.regions as Record<string, RegionPrices>)[region];
  if (r === undefined) {
    throw new RangeError(
      `no EC2 prices for region "${region}" (host/cost/prices/ec2_jobs.json); known regions: ` +
        Object.keys(file.regions).join(", "),
    );
  }
  const instances: Ec2Instance[] = [];
  for (const [family, { gib_per_vcpu }] of Object.entries(file.families)) {
    const figure = r.per_vcpu_hour[family];
    for (const [size, vcpu] of Object.entries(file.sizes)) {
      instances.push({
        type: `${family}.${size}`,
        vcpu,
        memoryGiB: vcpu * gib_per_vcpu,
        hour: Math.round(figure.value * vcpu * 1e6) / 1e6,
        figure,
      });
    }
  }
  instances.sort((a, b) => a.hour - b.hour || a.vcpu - b.vcpu);
  return {
    region,
    instances,
    ebsGp3GbMonth: r.ebs_gp3_gb_month,
    fargateStorageGbHour: r.fargate_storage_gb_hour,
  };
}

/** Memory the instance keeps for its system and docker, besides the job's. */
const SYSTEM_GIB = 1;

/**
 * The cheapest instance with at least `size.vcpu` vCPU and `size.memoryGB` GB of memory for the
 * job plus {@link SYSTEM_GIB} for the system; a `RangeError` when no type in the table is so big.
 */
export function chooseInstance(size: { vcpu: number; memoryGB: number }, p: Ec2Prices) {
  const needGiB = (size.memoryGB * 1e9) / 2 ** 30 + SYSTEM_GIB;
  const fit = p.instances.find((i) => i.vcpu >= size.vcpu && i.memoryGiB >= needGiB);
  if (fit === undefined) {
    throw new RangeError(
      `no EC2 instance type of host/cost/prices/ec2_jobs.json has ${size.vcpu} vCPU and ` +
        `${size.memoryGB} GB of memory to spare`,
    );
  }
  return fit;
}

/** Hours billed for `seconds` of running: per second, at least 60 seconds. */
export function billedHours(seconds: number): number {
  return Math.max(60, seconds) / 3600;
}

/** Hours in a month, as AWS prices a GB-month of EBS (730). */
const HOURS_PER_MONTH = 730;

/** The instance and its gp3 root volume of `volumeGiB` for `seconds` (60 at least). */
export function ec2Items(
  instance: Ec2Instance,
  volumeGiB: number,
  seconds: number,
  p: Ec2Prices,
): LineItem[] {
  const hours = billedHours(seconds);
  return [
    lineItem(`EC2 ${instance.type} on demand`, hours, "instance-hour", instance.hour),
    lineItem(
      `EBS gp3 root volume, ${volumeGiB} GiB`,
      (volumeGiB * hours) / HOURS_PER_MONTH,
      "GB-month",
      p.ebsGp3GbMonth.value,
    ),
  ];
}

/** Fargate's ephemeral storage of `gib` for `hours`: only what is over the 20 GiB included. */
export function fargateStorageItems(gib: number, hours: number, p: Ec2Prices): LineItem[] {
  const over = gib - 20;
  if (over <= 0) return [];
  return [
    lineItem(
      `Fargate ephemeral storage, ${over} GiB over 20`,
      over * hours,
      "GB-hour",
      p.fargateStorageGbHour.value,
    ),
  ];
}
