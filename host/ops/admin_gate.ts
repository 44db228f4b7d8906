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

/**
 * Proves the storage credentials may delete, before an admin operation touches anything: it
 * deletes a random name outside the repository layout (`gc-probe/<random>`, which never exists;
 * deleting a missing object succeeds and costs nothing). Where the store's own permissions
 * refuse it (the ingest user's S3 policy has no `s3:DeleteObject`), the operation is refused
 * with `CapabilityRefused` instead of failing halfway. On a versioned bucket the probe leaves a
 * delete marker under `gc-probe/`, which a lifecycle rule may expire (docs/s3.md).
 */
export async function proveDeleteAllowed(repo: Repository, action: string): Promise<void> {
  const name = `gc-probe/${crypto.randomUUID()}`;
  try {
    await repo.storage.delete(name);
  } catch (err) {
    if (!(err instanceof Deno.errors.PermissionDenied)) throw err;
    throw new CapabilityRefused(
      `${action} needs the admin role's storage credentials, and these may not delete ` +
        `(deleting the probe "${name}" failed: ${(err as Error).message}); use the admin ` +
        'profile or keys (docs/s3.md, "Roles")',
    );
  }
}
