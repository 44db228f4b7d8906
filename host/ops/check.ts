/**
 * `check`: the repository's structural integrity, from hot objects alone by default: every
 * blob a snapshot references is indexed, and every indexed pack exists (both tiers for
 * metadata packs) with the indexed size. By default no pack under `packs/` is read, restored
 * or even stat'ed one by one: packs are listed, and trees are read from the metadata packs' hot
 * copies (`meta/`; only a missing hot copy makes `Repository.readPack` fall back to its cold
 * copy, and that copy is then reported missing or unreadable). `readData` also reads every pack
 * whole, opens every frame and verifies every blob id; `readPacks` does that for the packs it
 * names (`check --read-data-subset`, which makes them readable first). Problems are collected,
 * each naming its pack and blob.
 *
 * @module
 */

import { blobId } from "../crypto/mac.ts";
import { readKeyFileInfo } from "../repository/keyfile.ts";
import { requirePrivateKey } from "../repository/keys.ts";
import { layout } from "../repository/layout.ts";
import {
  openDataKey,
  openFrameAsync,
  PACK_HEADER_LENGTH,
  readPackContents,
} from "../repository/pack.ts";
import type { Repository } from "../repository/repository.ts";
import { walkTree } from "./snapshot_path.ts";

export interface Problem {
  pack?: string;
  blob?: string;
  snapshot?: string;
  message: string;
}

export interface CheckResult {
  snapshots: number;
  packs: number;
  blobs: number;
  readPacks: number;
  problems: Problem[];
}

export async function check(
  repo: Repository,
  options: {
    /** Read every indexed pack whole. */
    readData?: boolean;
    /** Read these indexed packs whole (ids; ignored with `readData`). */
    readPacks?: readonly string[];
    onProgress?: (done: number, total: number) => void;
  } = {},
): Promise<CheckResult> {
  // Checking that snapshots reference indexed blobs means reading their trees.
  requirePrivateKey(repo.keys, "trees, so it cannot check the repository");
  const problems: Problem[] = [];
  await repo.loadIndex();

  const stored = new Map<string, number>();
  for (const prefix of [layout.prefixes.pack, layout.prefixes.meta]) {
    for (const o of await repo.storage.list(prefix)) stored.set(o.name, o.size);
  }
  for (const p of repo.index.packs()) {
    const names = p.metadata ? [layout.pack(p.id), layout.metaCopy(p.id)] : [layout.pack(p.id)];
    for (const name of names) {
      const size = stored.get(name);
      if (size === undefined) problems.push({ pack: p.id, message: `"${name}" is missing` });
      else if (size !== p.length) {
        problems.push({
          pack: p.id,
          message: `"${name}" has ${size} bytes, the index says ${p.length} (truncated or damaged)`,
        });
      }
    }
  }

  for (const k of await repo.storage.list(layout.prefixes.key)) {
    if (repo.warnings.some((w) => w.startsWith(`"${k.name}"`))) continue; // reported below
    try {
      readKeyFileInfo(await repo.storage.read(k.name));
    } catch (err) {
      problems.push({ message: `"${k.name}" is not a valid key object: ${errMessage(err)}` });
    }
  }
  const snapshots = await repo.snapshots();
  for (const w of repo.warnings) problems.push({ message: w });
  for (const s of snapshots) {
    const need = (id: string, what: string) => {
      if (!repo.index.has(id)) {
        problems.push({ snapshot: s.id, blob: id, message: `${what} is not in the index` });
        return false;
      }
      return true;
    };
    need(s.manifest.details, "the snapshot details blob");
    if (!need(s.manifest.root, "the root tree")) continue;
    try {
      await walkTree(repo, s.manifest.root, "/", (path, node) => {
        if (node.subtree !== undefined) need(node.subtree, `the tree of "${path}"`);
        for (const id of node.content ?? []) need(id, `a chunk of "${path}"`);
      });
    } catch (err) {
      problems.push({ snapshot: s.id, message: `cannot read its trees: ${errMessage(err)}` });
    }
  }

  let readPacks = 0;
  const packs = options.readData ? [...repo.index.packs()] : (options.readPacks ?? []).map((id) => {
    const p = repo.index.pack(id);
    if (!p) throw new TypeError(`pack "${id}" is not in the index`);
    return p;
  });
  if (packs.length > 0) {
    for (const p of packs) {
      options.onProgress?.(readPacks, packs.length);
      // A metadata pack has two copies (hot and cold): both must be whole.
      const names = p.metadata ? [layout.metaCopy(p.id), layout.pack(p.id)] : [layout.pack(p.id)];
      for (const name of names) {
        if (stored.get(name) === undefined) continue; // reported above as missing
        try {
          problems.push(...await verifyPack(repo, p.id, await repo.storage.read(name)));
          readPacks++;
        } catch (err) {
          problems.push({ pack: p.id, message: `"${name}" cannot be read: ${errMessage(err)}` });
        }
      }
    }
    options.onProgress?.(readPacks, packs.length);
  }
  return {
    snapshots: snapshots.length,
    packs: repo.index.packCount,
    blobs: repo.index.blobCount,
    readPacks,
    problems,
  };
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Opens every frame of a pack and checks every blob against its id and the index. */
async function verifyPack(repo: Repository, pack: string, bytes: Uint8Array): Promise<Problem[]> {
  const problems: Problem[] = [];
  const toc = readPackContents(bytes, repo.keys);
  const key = openDataKey(bytes.subarray(0, PACK_HEADER_LENGTH), repo.keys);
  const frames = new Map<number, Uint8Array | null>();
  for (const b of toc.blobs) {
    let plain = frames.get(b.frameOffset);
    if (plain === null) continue; // this frame is damaged: reported once below
    if (!plain) {
      try {
        plain = await openFrameAsync(
          key,
          bytes.subarray(b.frameOffset, b.frameOffset + b.frameLength),
          b.frameOffset,
        );
      } catch (err) {
        frames.set(b.frameOffset, null);
        const lost = toc.blobs.filter((x) => x.frameOffset === b.frameOffset);
        problems.push({
          pack,
          blob: b.id,
          message: `frame at offset ${b.frameOffset} is damaged (${
            errMessage(err)
          }); its ${lost.length} blobs are unreadable: ${
            lost.map((x) => x.id.slice(0, 12)).join(", ")
          }`,
        });
        continue;
      }
      frames.set(b.frameOffset, plain);
    }
    const data = plain.subarray(b.offsetInFrame, b.offsetInFrame + b.length);
    if (blobId(repo.keys.macKey, data) !== b.id) {
      problems.push({ pack, blob: b.id, message: "blob does not match its id" });
    }
    // Any copy may be read (a restore picks among them, docs/format.md §7.2): check this pack's.
    const indexed = repo.index.copies(b.id).find((c) => c.pack === pack);
    if (indexed && indexed.frameOffset !== b.frameOffset) {
      problems.push({ pack, blob: b.id, message: "the index and the pack disagree" });
    }
  }
  return problems;
}
