/**
 * `check`'s part about which repository key objects belong to (docs/format.md §4.1): a version 2
 * key object must belong to this repository's config. And the key set the repository was opened
 * with must be the one its data was written with: a key object that an `init` which lost a race
 * left behind (version 1, which names no repository) opens another key set, and nothing the
 * owner wrote decodes under it. (`check.ts` reports key objects that do not parse or do not
 * carry their own name, §2.)
 *
 * @module
 */

import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import { sha256Hex } from "../crypto/hash.ts";
import { type KeyFileInfo, readKeyFileInfo } from "../repository/keyfile.ts";
import { idOf, kindOf, layout } from "../repository/layout.ts";
import { isDamage, type Repository } from "../repository/repository.ts";
import type { Problem } from "./check.ts";

/**
 * Key objects of another repository, and a key set that is not the repository's, each naming
 * the object and what to do. Objects the opening already warned about are left to those
 * warnings, and objects that do not parse or carry another's name to `check.ts`. Call after
 * `repo.loadIndex()`; `manifestsDecoded` is how many snapshot manifests decoded under the key
 * set (`repo.snapshots()`).
 */
export async function checkKeyBindings(
  repo: Repository,
  manifestsDecoded: number,
): Promise<Problem[]> {
  const problems: Problem[] = [];
  const id = repo.config.id;
  const version1: string[] = [];
  for (const { name } of await repo.storage.list(layout.prefixes.key)) {
    if (name === repo.keyObject) continue;
    if (repo.warnings.some((w) => w.startsWith(`"${name}"`))) continue; // reported as a warning
    const info = await readKeyObjectInfo(repo, name);
    if (info === undefined) continue; // check.ts reports it
    if (info.repository !== undefined && info.repository !== id) {
      problems.push({
        message: `"${name}" belongs to another repository ("${info.repository.slice(0, 8)}"), ` +
          `not this one ("${id.slice(0, 8)}"): an init that lost a race or was interrupted ` +
          "left it, and it opens nothing here; delete it",
      });
    } else if (info.version === 1) version1.push(name);
  }
  problems.push(...keySetProblems(repo, version1, manifestsDecoded));
  return problems;
}

/** The header of key object `name`; undefined when it does not parse or is misnamed (§2). */
async function readKeyObjectInfo(
  repo: Repository,
  name: string,
): Promise<KeyFileInfo | undefined> {
  if (kindOf(name) !== "key") return undefined;
  try {
    const bytes = await repo.storage.read(name);
    return sha256Hex(bytes) === idOf(name) ? readKeyFileInfo(bytes, name) : undefined;
  } catch (err) {
    if (isDamage(err) || err instanceof ObjectNotFound) return undefined;
    throw err;
  }
}

/**
 * Whether the opened key set is the one the repository's index segments were written with.
 * Manifests are sealed under the same index key, so one that decodes shows it is (segments that
 * do not decode are then damaged, and reported as such). Nothing decoding means it may not be:
 * a version 1 key object that a losing `init` left may have been opened, or everything is
 * damaged; the two cannot be told apart, so the message never has the only key object that
 * opens the repository deleted. Some segments not decoding, while other version 1 key objects
 * exist, may mean the reverse: such a key object's passphrase opened another key set, which
 * wrote them.
 */
function keySetProblems(
  repo: Repository,
  version1: string[],
  manifestsDecoded: number,
): Problem[] {
  const undecodable = repo.undecodable.filter((n) => n.startsWith(layout.prefixes.index));
  if (undecodable.length === 0) return [];
  const opened = repo.keyObject ? `the key object "${repo.keyObject}"` : "the key file";
  if (repo.segments().length === 0 && manifestsDecoded === 0) {
    const it = repo.keyObject ? `"${repo.keyObject}"` : "this key file";
    return [{
      message: `the key set opened from ${opened} decodes none of the repository's ` +
        `${undecodable.length} index segments, nor any snapshot manifest: it may not be the ` +
        "key set the repository was written with (a version 1 key object that an init which " +
        "lost a race left behind opens another one), or all of them are damaged. If another " +
        "passphrase opens another key object of this repository, and `check` with it finds " +
        `the segments whole, delete ${it}; never delete the only key object that opens the ` +
        "repository",
    }];
  }
  if (version1.length === 0) return [];
  return [{
    message: `${undecodable.length} index segments do not decode under the key set opened from ` +
      `${opened}, and the repository holds other version 1 key objects (${
        version1.map((n) => `"${n}"`).join(", ")
      }): if an init that lost a race left one of them, its passphrase opens another key set, ` +
      "which wrote those segments. Opened with that passphrase, `check` says so; then delete " +
      "that key object",
  }];
}
