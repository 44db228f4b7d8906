/**
 * The cost model: pure functions from a plan (objects, bytes, class, months or age, restore
 * tier, destination) to an itemised {@link Estimate} with a time range, priced from a dated,
 * region-keyed {@link PriceTable}. No I/O: the shipped tables are imported as data.
 *
 * docs/cost-model.md gives every formula (each function cites its section) and the source of
 * every price.
 *
 * @module
 */

export {
  type Figure,
  parsePriceTable,
  type PriceTable,
  shippedPriceTable,
  shippedRegions,
} from "./price_table.ts";
export { type Assumptions, defaultAssumptions } from "./assumptions.ts";
export type { Estimate, LineItem } from "./estimate.ts";
export { estimateStore, type StorePlan } from "./store_cost.ts";
export { estimateRestore, pricedTiers, type RestorePlan } from "./restore_cost.ts";
export { estimateRebuild, type RebuildPlan } from "./rebuild_cost.ts";
export { type DeletePlan, estimateDelete } from "./delete_cost.ts";
export { type CompactOptions, type CompactPack, defaultHorizonMonths } from "./compact_cost.ts";
export {
  chooseCompaction,
  type CompactBreakEven,
  compactBreakEven,
  type CompactionChoice,
} from "./compact_break_even.ts";
export { estimateCompact } from "./compact_estimate.ts";
export type { Destination } from "./egress.ts";
export { type BackupEstimate, estimateBackup, type WrittenObject } from "./backup_cost.ts";
export {
  commonTiers,
  compareReads,
  estimatePackRead,
  type PackGroup,
  type PackReadPlan,
  type ReadAlternative,
} from "./pack_read_cost.ts";
export {
  type Bill,
  estimateBill,
  projectBill,
  type Projection,
  type RestoredCopy,
  type StoredObject,
} from "./bill.ts";
