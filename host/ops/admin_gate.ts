/**
 * The admin gate (docs/security.md §1, docs/design.md §2): the operations that delete or rearrange
 * (forget, gc compact and purge, index consolidation, rebuild, key management) need the master
 * key and a storage handle whose role may delete. `assertAdmin` refuses anything less, before
 * the operation lists or reads anything, with a message saying what to use instead. Garbage
 * collection also refuses, by `assertNothingUndecodable`, while a snapshot manifest or index
 * segment it would need cannot be decoded.
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

/** How many object names `assertNothingUndecodable` lists before "and N more". */
const NAMES_LISTED = 20;

/**
 * Garbage collection refused: some `snapshots/<id>` or `index/<id>` objects cannot be decoded.
 * Permanent until the admin repairs or deletes them; the message names them.
 */
export class UndecodableObjects extends Error {
  override name = "UndecodableObjects";
}

/**
 * Refuses, with `UndecodableObjects`, while a snapshot manifest or index segment the repository
 * has loaded cannot be decoded (`repo.undecodable`: damaged, or written by a newer format
 * version). Garbage collection computes what is live from the snapshots and the index, so
 * without such an object the data it references would look dead and be deleted (docs/gc.md
 * "Objects that do not decode"). Call it after `repo.snapshots()` and `repo.loadIndex()`.
 * `action` names the operation in the message ("gc mark", "gc purge", ...). A version-2 segment
 * whose admin tag does not verify, or a stray name outside the layout, does not count: neither
 * is in `repo.undecodable`.
 */
export function assertNothingUndecodable(repo: Repository, action: string): void {
  if (repo.undecodable.length === 0) return;
  const names = [...repo.undecodable].sort();
  const listed = names.slice(0, NAMES_LISTED).map((n) => `"${n}"`).join(", ");
  const more = names.length > NAMES_LISTED ? ` and ${names.length - NAMES_LISTED} more` : "";
  const one = names.length === 1;
  throw new UndecodableObjects(
    `${action} refuses to run: ${one ? "this object" : `${names.length} objects`} cannot be ` +
      `decoded: ${listed}${more}. Without ${one ? "it" : "them"}, gc would count data still in ` +
      "use as dead and delete it. Run `permafrost check` to see what is wrong with each; one " +
      "written by a newer Permafrost needs gc (or `forget`) run with that version; delete any " +
      "other from the store deliberately (a damaged one is then written again from the packs " +
      'by `permafrost rebuild`; docs/gc.md, "Objects that do not decode")',
  );
}
