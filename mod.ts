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
export { WrongPassphrase } from "./host/repository/errors.ts";
export * from "./plugins/sdk/errors.ts";
