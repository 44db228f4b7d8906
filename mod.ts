/**
 * Permafrost: encrypted, deduplicated, append-only backups for S3 cold storage.
 *
 * The library API the CLI (`host/cli/main.ts`) is built on. See README.md and docs/.
 *
 * @module
 */

export { NotARepository, Repository } from "./host/repository/repository.ts";
export type { Credentials, SnapshotEntry } from "./host/repository/repository.ts";
export { openStorage } from "./host/storage/open.ts";
export type { Role, Storage } from "./host/storage/storage.ts";
export { backup } from "./host/ops/backup.ts";
export type { BackupOptions, BackupResult } from "./host/ops/backup.ts";
export { planRestore } from "./host/ops/restore_plan.ts";
export type { RestorePlan } from "./host/ops/restore_plan.ts";
export { executeRestore } from "./host/ops/restore.ts";
export { ls } from "./host/ops/ls.ts";
export { find } from "./host/ops/find.ts";
export { diff } from "./host/ops/diff.ts";
export { check } from "./host/ops/check.ts";
export {
  ConfigMissing,
  ForeignKey,
  NoUsableKey,
  WrongPassphrase,
} from "./host/repository/errors.ts";
export * from "./plugins/sdk/errors.ts";

// The admin lifecycle (docs/gc.md): forget, the gc stages, index consolidation, rebuild.
export { executeForget, planForget } from "./host/ops/forget.ts";
export { markRepository } from "./host/ops/gc_mark.ts";
export type { MarkReport } from "./host/ops/gc_mark.ts";
export { compactWork, planCompact } from "./host/ops/gc_compact.ts";
export { executeCompact } from "./host/ops/gc_compact_execute.ts";
export { executePurge, planPurge } from "./host/ops/gc_purge.ts";
export type { PurgePlan } from "./host/ops/gc_purge.ts";
export { consolidateIndex } from "./host/ops/index_consolidate.ts";
export { planRebuild } from "./host/ops/rebuild_plan.ts";
export { scanMetadata, writeRebuild } from "./host/ops/rebuild.ts";
