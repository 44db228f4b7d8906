/**
 * The admin gate (DESIGN §3, docs/security.md "Roles"): the operations that delete or rearrange
 * (forget, gc compact and purge, index consolidation, rebuild, key management) need the master
 * key and a storage handle whose role may delete. `assertAdmin` refuses anything less, before
 * the operation lists or reads anything, with a message saying what to use instead.
 *
 * @module
 */

import { CapabilityRefused } from "../../plugins/sdk/errors.ts";
import type { Repository } from "../repository/repository.ts";
import { type Role, storageMethodsByRole } from "../storage/storage.ts";

/**
 * Refuses, with `CapabilityRefused`, a repository opened with an ingest key or on a storage
 * handle whose role may not delete. `action` names the operation in the message ("forget",
 * "gc purge", ...). Calls nothing on the store.
 */
export function assertAdmin(repo: Repository, action: string): void {
  if (repo.keys.role !== "master") {
    throw new CapabilityRefused(
      `${action} needs the admin role: this is a put-only (ingest) key, which may not delete ` +
        "or rearrange anything; run it with the repository passphrase, without " +
        "--key-file/PERMAFROST_KEY_FILE",
    );
  }
  const role = (repo.storage as { role?: Role }).role;
  if (role !== undefined && !(storageMethodsByRole[role] as readonly string[]).includes("delete")) {
    throw new CapabilityRefused(
      `${action} needs the admin role's storage credentials: the ${role} role may not delete`,
    );
  }
}
