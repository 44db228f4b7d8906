/**
 * `check`: the repository's structural integrity, from hot objects alone by default: every
 * blob a snapshot references is indexed, and every indexed pack exists (both tiers for
 * metadata packs) with the indexed size. By default no pack under `packs/` is read, restored
 * or even stat'ed one by one: packs are listed, and trees are read from the metadata packs' hot
 * copies (`meta/`; only a missing hot copy makes `Repository.readPack` fall back to its cold
 * copy, and that copy is then reported missing or unreadable). A snapshot that needs a blob
 * stored only in missing packs is named as broken. Key objects, index segments and manifests
 * are checked against their names (docs/format.md §2; `Repository` skips and reports the last
 * two). `readData` also reads every pack whole and asks three things of it
 * (`check_pack.ts`): its name against its bytes, every frame and blob against the TOC, and
 * every index entry naming it against that TOC; `readPacks` does that for the packs it names
 * (`check --read-data-subset`, which makes them readable first). Problems are collected, each
 * naming its object, pack, blob or snapshot.
 *
 * @module
 */

import { sha256Hex } from "../crypto/hash.ts";
import { readKeyFileInfo } from "../repository/keyfile.ts";
import { requirePrivateKey } from "../repository/keys.ts";
import { idOf, kindOf, layout } from "../repository/layout.ts";
import type { PackInfo } from "../repository/repo_index.ts";
import type { Repository, SnapshotEntry } from "../repository/repository.ts";
import { errMessage, indexClaims, verifyPack } from "./check_pack.ts";
import { checkKeyBindings } from "./check_keys.ts";
import { walkTree } from "./snapshot_path.ts";
import { type StrayReport, strayReport } from "./strays.ts";
import { checkMirrors, type MirrorUse } from "./check_mirror.ts";

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
  /** What interrupted writes left in the store (not problems: `gc purge` removes them). */
  strays: StrayReport;
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
  const missing = checkPresence(repo, stored, problems);

  problems.push(...await checkKeyObjects(repo));
  const snapshots = await repo.snapshots();
  problems.push(...await checkKeyBindings(repo, snapshots.length));
  for (const w of repo.warnings) problems.push({ message: w });
  const mirrored: MirrorUse[] = [];
  problems.push(...await checkSnapshots(repo, snapshots, missing, mirrored));
  problems.push(
    ...await checkMirrors(repo.storage, mirrored, options.readData === true, repo.keys),
  );

  const packs = options.readData ? [...repo.index.packs()] : (options.readPacks ?? []).map((id) => {
    const p = repo.index.pack(id);
    if (!p) throw new TypeError(`pack "${id}" is not in the index`);
    return p;
  });
  const readPacks = await readWhole(repo, packs, stored, problems, options.onProgress);
  return {
    snapshots: snapshots.length,
    packs: repo.index.packCount,
    blobs: repo.index.blobCount,
    readPacks,
    problems,
    strays: await strayReport(repo.storage), // host/ops/strays.ts
  };
}

/**
 * Every indexed pack is stored (both copies of a metadata pack) with the indexed size; problems
 * are added to `problems`. Returns the packs that are missing, with their problems: a data pack
 * without `packs/<id>`, a metadata pack without either copy (reads fall back to the other).
 */
function checkPresence(
  repo: Repository,
  stored: Map<string, number>,
  problems: Problem[],
): Map<string, Problem> {
  const missing = new Map<string, Problem>();
  for (const p of repo.index.packs()) {
    const names = p.metadata ? [layout.pack(p.id), layout.metaCopy(p.id)] : [layout.pack(p.id)];
    for (const name of names) {
      const size = stored.get(name);
      if (size === undefined) {
        const problem = { pack: p.id, message: `"${name}" is missing` };
        problems.push(problem);
        if (names.every((n) => !stored.has(n))) missing.set(p.id, problem);
      } else if (size !== p.length) {
        problems.push({
          pack: p.id,
          message: `"${name}" has ${size} bytes, the index says ${p.length} (truncated or damaged)`,
        });
      }
    }
  }
  return missing;
}

/**
 * Reads each of `packs` whole (`check_pack.ts`), every stored copy: a metadata pack has two
 * (hot and cold), and both must be whole; the index entries naming a pack are checked against
 * the first whose bytes are its own. Adds to `problems`; returns how many objects were read.
 */
async function readWhole(
  repo: Repository,
  packs: readonly PackInfo[],
  stored: Map<string, number>,
  problems: Problem[],
  onProgress?: (done: number, total: number) => void,
): Promise<number> {
  let read = 0;
  const claims = indexClaims(repo, new Set(packs.map((p) => p.id)));
  for (const p of packs) {
    onProgress?.(read, packs.length);
    const names = p.metadata ? [layout.metaCopy(p.id), layout.pack(p.id)] : [layout.pack(p.id)];
    let asked = false;
    for (const name of names) {
      if (stored.get(name) === undefined) continue; // reported as missing
      try {
        const bytes = await repo.storage.read(name);
        const found = await verifyPack(repo, p, name, bytes, asked ? undefined : claims.get(p.id));
        problems.push(...found.problems);
        asked ||= found.own;
        read++;
      } catch (err) {
        problems.push({ pack: p.id, message: `"${name}" cannot be read: ${errMessage(err)}` });
      }
    }
  }
  if (packs.length > 0) onProgress?.(read, packs.length);
  return read;
}

/**
 * `checkSnapshot` for each snapshot; the problem of each missing pack that breaks some gets
 * their ids added.
 */
async function checkSnapshots(
  repo: Repository,
  snapshots: readonly SnapshotEntry[],
  missing: Map<string, Problem>,
  mirrored: MirrorUse[],
): Promise<Problem[]> {
  const problems: Problem[] = [];
  const gone = new Set(missing.keys());
  const breaks = new Map<string, string[]>(); // missing pack -> snapshots it breaks
  for (const s of snapshots) {
    const checked = await checkSnapshot(repo, s, gone, mirrored);
    problems.push(...checked.problems);
    for (const p of checked.lostIn) breaks.set(p, [...breaks.get(p) ?? [], s.id]);
  }
  for (const [pack, ids] of breaks) {
    const shown = ids.slice(0, 10).map((id) => id.slice(0, 8)).join(", ");
    missing.get(pack)!.message += `; it breaks ${ids.length === 1 ? "snapshot" : "snapshots"} ` +
      `${shown}${ids.length > 10 ? ` and ${ids.length - 10} more` : ""} (blobs stored only there)`;
  }
  return problems;
}

/**
 * Each key object decodes, and its name is the SHA-256 of its bytes (docs/format.md §2): a key
 * object copied or planted under another name is reported.
 */
async function checkKeyObjects(repo: Repository): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const k of await repo.storage.list(layout.prefixes.key)) {
    if (repo.warnings.some((w) => w.startsWith(`"${k.name}"`))) continue; // reported with them
    try {
      const bytes = await repo.storage.read(k.name);
      readKeyFileInfo(bytes);
      const sha = sha256Hex(bytes);
      if (kindOf(k.name) === "key" && sha !== idOf(k.name)) {
        problems.push({
          message: `"${k.name}" holds the bytes of "${layout.key(sha)}", not its own (copied, ` +
            `swapped or planted under this name: its name is not the SHA-256 of its bytes); ` +
            `store them as "${layout.key(sha)}" unless that object holds them already, then ` +
            `delete "${k.name}"`,
        });
      }
    } catch (err) {
      problems.push({ message: `"${k.name}" is not a valid key object: ${errMessage(err)}` });
    }
  }
  return problems;
}

/**
 * Every blob snapshot `s` references is indexed, and has a copy in a pack that is not
 * `missing`; one problem names the snapshot when some have none (what it cannot restore).
 * Returns its problems and the missing packs that hold those blobs (`lostIn`).
 */
async function checkSnapshot(
  repo: Repository,
  s: SnapshotEntry,
  missing: Set<string>,
  mirrored: MirrorUse[],
): Promise<{ problems: Problem[]; lostIn: string[] }> {
  const problems: Problem[] = [];
  /** Blobs stored only in missing packs: what needs them, and those packs. */
  const lost: { what: string; packs: string[] }[] = [];
  const need = (id: string, what: string) => {
    if (!repo.index.has(id)) {
      problems.push({ snapshot: s.id, blob: id, message: `${what} is not in the index` });
      return false;
    }
    const copies = missing.size > 0 ? repo.index.copies(id) : [];
    if (copies.length > 0 && copies.every((c) => missing.has(c.pack))) {
      lost.push({ what, packs: copies.map((c) => c.pack) });
    }
    return true;
  };
  need(s.manifest.details, "the snapshot details blob");
  if (need(s.manifest.root, "the root tree")) {
    try {
      await walkTree(repo, s.manifest.root, "/", (path, node) => {
        if (node.subtree !== undefined) need(node.subtree, `the tree of "${path}"`);
        for (const id of node.content ?? []) need(id, `a chunk of "${path}"`);
        if (node.mirror) {
          mirrored.push({ ref: node.mirror, size: node.size ?? 0, snapshot: s.id, path });
        }
      });
    } catch (err) {
      problems.push({ snapshot: s.id, message: `cannot read its trees: ${errMessage(err)}` });
    }
  }
  if (lost.length === 0) return { problems, lostIn: [] };
  const packs = [...new Set(lost.flatMap((l) => l.packs))];
  problems.push({
    snapshot: s.id,
    pack: packs[0],
    message: `cannot be restored whole: ${lost.length} blobs it references (e.g. ${
      lost[0].what
    }) are stored only in missing packs: ${
      packs.slice(0, 5).map((p) => `"${layout.pack(p)}"`).join(", ")
    }${packs.length > 5 ? ` and ${packs.length - 5} more` : ""}`,
  });
  return { problems, lostIn: packs };
}
