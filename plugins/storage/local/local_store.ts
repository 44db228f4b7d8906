/**
 * The local folder store behind the `local` storage plugin. It runs inside the plugin worker,
 * which may read and write only the repository folder, and implements the Storage contract of
 * `host/storage/storage.ts` (create-only, atomic, durable; see there).
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import { NeedsRestore, ObjectExists, ObjectNotFound } from "../../sdk/storage.ts";
import {
  checkRestoreOptions,
  type ColdRecord,
  ColdSimulation,
  isStorageClass,
  type StorageClass,
} from "./cold_simulation.ts";
import { openTemp, parentOf, removeTemp, syncDir, tempInUse } from "./durable_file.ts";
import {
  type ByteRange,
  labelPattern,
  type ObjectInfo,
  type ObjectStat,
  type Stray,
} from "../../sdk/storage.ts";
import { checkName, isReserved, listRoot, objectName, objectPath, TMP_DIR } from "./object_path.ts";

type Range = ByteRange;
type Listed = ObjectInfo;
type Stat = ObjectStat;

/** Options of the store. */
export interface LocalStoreOptions {
  /** Simulate S3 archive classes (`cold_simulation.ts`); a restore takes this many seconds. */
  cold?: { restoreDelaySeconds: number };
  /** The simulation's clock, in ms since the epoch (tests move it). */
  now?: () => number;
}

const STAT_BATCH = 64;

/** What `startUpload` is told (the Storage contract's `UploadStart`). */
export interface UploadStart {
  size: number;
  sha256: string;
  storageClass?: StorageClass;
  label?: string;
  version?: boolean;
}

/** An upload in pieces under way: its temporary file, locked, and what it declared. */
interface OpenUpload {
  name: string;
  tmp: string;
  file: Deno.FsFile;
  size: number;
  sha256: string;
  storageClass: StorageClass;
  label: string | undefined;
  hash: Hash;
  received: number;
}

/**
 * A repository in a folder. Contract, beyond the Storage contract:
 * - `create` writes `<root>/tmp/<random>`, fsyncs it, hard-links it to its final path (the link
 *   fails if the name exists, so no create can replace an object, even racing another
 *   process), unlinks the temporary name and fsyncs the final folder (skipped on Windows,
 *   which cannot open folders). A crash can leave files in `tmp/`; they are never objects, and
 *   `strays` lists them (`tmp/<file>`, with their size and modification time). A create holds
 *   an exclusive advisory lock on its temporary file until its name is gone (`openTemp`), so
 *   `strays` never lists, nor `removeStray` removes, the file of a write under way, whatever
 *   its age (except on Windows, or a file system without such locks).
 * - Folders are created as needed, each fsync'd into its parent; `init()` creates the root.
 * - Without `cold`, the storage class and the label are recorded nowhere and every object is
 *   readable. With it, GLACIER and DEEP_ARCHIVE objects need `requestRestore` before `read` (see
 *   `cold_simulation.ts` for the rules and the `.cold/` records), and objects created in a
 *   class other than STANDARD keep their label in their record. Labels of always-readable
 *   objects are dropped, as the Storage contract allows (`CreateOptions.label`).
 */
export class LocalStore {
  readonly root: string;
  #known = new Set<string>();
  /** Uploads in pieces under way, by id (their temporary file's name). */
  #uploads = new Map<string, OpenUpload>();
  #cold: ColdSimulation | undefined;

  constructor(root: string, options: LocalStoreOptions = {}) {
    if (typeof root !== "string" || !root.startsWith("/") && !/^[A-Za-z]:[\\/]/.test(root)) {
      throw new TypeError(`local store root "${root}" must be an absolute path`);
    }
    this.root = root.length > 1 ? root.replace(/[\\/]+$/, "") : root;
    if (options.cold) {
      this.#cold = new ColdSimulation(this.root, options.cold.restoreDelaySeconds, options.now);
    }
  }

  /**
   * Creates the root folder (and any missing parent), the `tmp/` folder and, simulating cold,
   * `.cold/`. Idempotent.
   */
  async init(): Promise<void> {
    await Deno.mkdir(this.root, { recursive: true, mode: 0o700 });
    this.#known.add(this.root);
    await this.#ensureDir(this.#abs(TMP_DIR));
    await this.#cold?.init();
  }

  /**
   * The Storage contract's `create`. `afterWrite` is called once `data` is in the temporary
   * file (before its fsync): the caller may free `data` then; nothing reads it afterwards.
   */
  async create(
    name: string,
    data: Uint8Array,
    options?: { storageClass?: StorageClass; label?: string },
    afterWrite?: () => void,
  ): Promise<void> {
    checkName(name);
    if (!(data instanceof Uint8Array)) throw new TypeError(`data for "${name}" is no Uint8Array`);
    const storageClass = options?.storageClass ?? "STANDARD";
    if (!isStorageClass(storageClass)) {
      throw new TypeError(`storage class "${storageClass}" of object "${name}" is not known`);
    }
    const label = options?.label;
    if (label !== undefined && (typeof label !== "string" || !labelPattern.test(label))) {
      throw new TypeError(`label "${label}" of object "${name}" is not valid`);
    }
    try {
      await this.#create(name, data, storageClass, label, afterWrite);
    } catch (e) {
      throw diskFull(e, `object "${name}"`, this.root) ?? e;
    }
  }

  async #create(
    name: string,
    data: Uint8Array,
    storageClass: StorageClass,
    label: string | undefined,
    afterWrite?: () => void,
  ): Promise<void> {
    await this.#ensureDir(this.#abs(TMP_DIR));
    // Locked until its name is gone: a write under way is no stray (`strays`).
    const { path: tmp, file } = await openTemp(this.#abs(TMP_DIR));
    try {
      for (let done = 0; done < data.byteLength;) {
        done += await file.write(data.subarray(done));
      }
      // The bytes are in the file now; from here on the file stands for them, so the caller
      // may free `data` during the slow part (fsync of a 64 MiB pack).
      afterWrite?.();
      await this.#publish(name, tmp, file, storageClass, label);
    } finally {
      await Deno.remove(tmp).catch(() => {});
      file.close();
    }
  }

  /**
   * Makes the written temporary file `tmp` object `name`: fsyncs it, links it to its final
   * path (create-only: identical bytes there resolve, others are `ObjectExists`) and fsyncs
   * that folder. The caller removes `tmp` and closes `file` afterwards.
   */
  async #publish(
    name: string,
    tmp: string,
    file: Deno.FsFile,
    storageClass: StorageClass,
    label: string | undefined,
  ): Promise<void> {
    const final = this.#abs(objectPath(name));
    const dir = parentOf(final);
    await file.sync();
    await this.#ensureDir(dir);
    try {
      await Deno.link(tmp, final);
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) {
        if (await sameFiles(final, tmp)) return;
        throw new ObjectExists(`object "${name}" already exists with different bytes`);
      }
      if (e instanceof Deno.errors.NotADirectory) {
        throw new TypeError(`object name "${name}" runs through another object`);
      }
      throw e;
    }
    await syncDir(dir);
    // Only the create that linked the object records its class (see cold_simulation.ts).
    await this.#cold?.setClass(name, storageClass, label);
  }

  /**
   * The Storage contract's `startUpload` (an object in pieces, written create-only like
   * `create`: into a locked temporary file in `tmp/`, linked to its name by `finishUpload`).
   * This store keeps no versions: `version` is a `TypeError`.
   */
  async startUpload(name: string, start: UploadStart): Promise<string> {
    checkName(name);
    const { size, sha256, label, version } = start ?? {};
    if (!isCount(size)) throw new TypeError(`size "${size}" of object "${name}" is not valid`);
    if (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256)) {
      throw new TypeError(`SHA-256 "${sha256}" of object "${name}" is not 64 hex digits`);
    }
    if (version !== undefined && version !== false) {
      throw new TypeError(`this store keeps no object versions ("startUpload" of "${name}")`);
    }
    const storageClass = start.storageClass ?? "STANDARD";
    if (!isStorageClass(storageClass)) {
      throw new TypeError(`storage class "${storageClass}" of object "${name}" is not known`);
    }
    if (label !== undefined && (typeof label !== "string" || !labelPattern.test(label))) {
      throw new TypeError(`label "${label}" of object "${name}" is not valid`);
    }
    await this.#ensureDir(this.#abs(TMP_DIR));
    const { path: tmp, file } = await openTemp(this.#abs(TMP_DIR));
    const id = tmp.slice(tmp.lastIndexOf("/") + 1);
    this.#uploads.set(id, {
      name,
      tmp,
      file,
      size,
      sha256,
      storageClass,
      label,
      hash: createHash("sha256"),
      received: 0,
    });
    return id;
  }

  /** Appends `data` to an open upload; more bytes than it declared are a `TypeError`. */
  async writeUpload(upload: string, data: Uint8Array): Promise<void> {
    const u = this.#upload(upload);
    if (!(data instanceof Uint8Array)) throw new TypeError(`data for "${u.name}" is no Uint8Array`);
    if (u.received + data.length > u.size) {
      await this.abortUpload(upload);
      throw new TypeError(`object "${u.name}" got more than the ${u.size} bytes it declared`);
    }
    try {
      for (let done = 0; done < data.length;) done += await u.file.write(data.subarray(done));
    } catch (e) {
      await this.abortUpload(upload);
      throw diskFull(e, `object "${u.name}"`, this.root) ?? e;
    }
    u.hash.update(data);
    u.received += data.length;
  }

  /**
   * Stores the upload's object once all its declared bytes with its declared SHA-256 arrived
   * (else `TypeError`, nothing stored), with `create`'s contract. The upload is gone either way.
   */
  async finishUpload(upload: string): Promise<{ version?: string }> {
    const u = this.#upload(upload);
    this.#uploads.delete(upload);
    try {
      if (u.received !== u.size) {
        throw new TypeError(`object "${u.name}" got ${u.received} of its ${u.size} bytes`);
      }
      if (u.hash.digest("hex") !== u.sha256) {
        throw new TypeError(`object "${u.name}" does not have the SHA-256 its upload declared`);
      }
      await this.#publish(u.name, u.tmp, u.file, u.storageClass, u.label);
      return {};
    } catch (e) {
      throw diskFull(e, `object "${u.name}"`, this.root) ?? e;
    } finally {
      await Deno.remove(u.tmp).catch(() => {});
      u.file.close();
    }
  }

  /** Abandons an upload, storing nothing; an unknown one resolves. */
  async abortUpload(upload: string): Promise<void> {
    const u = this.#uploads.get(upload);
    if (u === undefined) return;
    this.#uploads.delete(upload);
    await Deno.remove(u.tmp).catch(() => {});
    u.file.close();
  }

  #upload(upload: string): OpenUpload {
    const u = typeof upload === "string" ? this.#uploads.get(upload) : undefined;
    if (u === undefined) throw new TypeError(`upload "${upload}" is not open`);
    return u;
  }

  async read(name: string, range?: Range): Promise<Uint8Array> {
    checkName(name);
    const path = this.#abs(objectPath(name));
    if (range !== undefined && range !== null) {
      const { offset, length } = range;
      if (!isCount(offset) || !isCount(length)) {
        throw new RangeError(`range ${offset}+${length} of object "${name}" is not valid`);
      }
    }
    if (this.#cold) await this.#refuseArchived(name);
    if (range && range.length <= SYNC_READ_MAX) return readSync(path, name, range);
    return await readAsync(path, name, range ?? undefined);
  }

  async stat(name: string): Promise<Stat | null> {
    checkName(name);
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(this.#abs(objectPath(name)));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
      throw e;
    }
    if (!info.isFile) return null;
    const modified = info.mtime?.toISOString();
    if (!this.#cold) {
      return { name, size: info.size, modified, availability: { state: "readable" } };
    }
    const record = await this.#cold.get(name);
    return {
      name,
      size: info.size,
      modified,
      storageClass: record?.storageClass ?? "STANDARD",
      availability: this.#cold.availability(record),
      ...(record?.label !== undefined ? { label: record.label } : {}),
    };
  }

  /**
   * Asks for a readable copy of an archived object (simulating cold; otherwise, and for an
   * object that is not archived, there is nothing to do). `ObjectNotFound` for a missing object,
   * `TypeError` for bad options.
   */
  async requestRestore(name: string, options: unknown): Promise<void> {
    checkName(name);
    const { tier, days } = checkRestoreOptions(name, options);
    if ((await this.stat(name)) === null) throw new ObjectNotFound(`object "${name}" not found`);
    if (this.#cold) await this.#cold.requestRestore(await this.#cold.get(name), tier, days);
  }

  async list(prefix: string): Promise<Listed[]> {
    if (typeof prefix !== "string") throw new TypeError(`list prefix "${prefix}" is not valid`);
    const start = listRoot(prefix);
    if (start === undefined) return [];
    const out: Listed[] = [];
    await this.#walk(start, prefix, out);
    if (!this.#cold) return out;
    const records = await this.#cold.all();
    return out.map((o) => ({
      ...o,
      storageClass: records.get(o.name)?.storageClass ?? "STANDARD",
    }));
  }

  async delete(name: string): Promise<void> {
    checkName(name);
    const path = this.#abs(objectPath(name));
    try {
      if (!(await Deno.lstat(path)).isFile) return;
      await Deno.remove(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
        return await this.#cold?.forget(name); // a record left by a crash in a delete
      }
      throw e;
    }
    await syncDir(parentOf(path));
    await this.#cold?.forget(name);
  }

  /**
   * The files in `tmp/` that killed writes left: not those of writes under way, which hold a
   * lock on them (`openTemp`).
   */
  async strays(): Promise<Stray[]> {
    const out: Stray[] = [];
    try {
      for await (const entry of Deno.readDir(this.#abs(TMP_DIR))) {
        if (!entry.isFile) continue;
        const name = `${TMP_DIR}/${entry.name}`;
        if (await tempInUse(this.#abs(name))) continue;
        const info = await Deno.stat(this.#abs(name)).catch((e) => {
          if (e instanceof Deno.errors.NotFound) return null; // its write just ended
          throw e;
        });
        if (info) out.push({ name, size: info.size, modified: info.mtime?.toISOString() });
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return out;
      throw e;
    }
    return out;
  }

  /**
   * Removes file `tmp/<file>` (`strays`), unless it is a write under way (`removeTemp`: then it
   * is left, and its write removes it when it ends); a name outside `tmp/` is a `TypeError`.
   */
  async removeStray(name: string): Promise<void> {
    const file = typeof name === "string" && name.startsWith(`${TMP_DIR}/`)
      ? name.slice(TMP_DIR.length + 1)
      : "";
    if (!/^[^/\\\0]+$/.test(file) || file === "." || file === "..") {
      throw new TypeError(`"${name}" is not a stray of the local store (want "${TMP_DIR}/<file>")`);
    }
    await removeTemp(this.#abs(name));
  }

  /** Rejects `NeedsRestore` if `name` is archived or being restored (`ObjectNotFound` if missing). */
  async #refuseArchived(name: string): Promise<void> {
    const record: ColdRecord | null = await this.#cold!.get(name);
    const { state } = this.#cold!.availability(record);
    if (state !== "archived" && state !== "restoring") return;
    if ((await this.stat(name)) === null) throw new ObjectNotFound(`object "${name}" not found`);
    throw new NeedsRestore(
      state === "archived"
        ? `object "${name}" is in ${record!.storageClass}: request a restore before reading it`
        : `object "${name}" is being restored, readable from ${record!.restore!.readyAt}`,
    );
  }

  #abs(rel: string): string {
    return rel === "" ? this.root : `${this.root === "/" ? "" : this.root}/${rel}`;
  }

  /** Walks folder `rel` (relative to the root), adding objects whose name starts with `prefix`. */
  async #walk(rel: string, prefix: string, out: Listed[]): Promise<void> {
    const files: string[] = [];
    const dirs: string[] = [];
    try {
      for await (const entry of Deno.readDir(this.#abs(rel))) {
        const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
        if (entry.isDirectory) {
          if (!isReserved(path)) dirs.push(path);
        } else if (entry.isFile) {
          const name = objectName(path);
          if (name !== undefined && name.startsWith(prefix)) files.push(path);
        }
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return;
      throw e;
    }
    for (let i = 0; i < files.length; i += STAT_BATCH) {
      const batch = files.slice(i, i + STAT_BATCH);
      const infos = await Promise.all(batch.map(async (p) => {
        try {
          return await Deno.stat(this.#abs(p));
        } catch (e) {
          if (e instanceof Deno.errors.NotFound) return null; // deleted meanwhile
          throw e;
        }
      }));
      batch.forEach((p, j) => {
        const info = infos[j];
        if (info === null) return;
        out.push({ name: objectName(p)!, size: info.size, modified: info.mtime?.toISOString() });
      });
    }
    for (const d of dirs) await this.#walk(d, prefix, out);
  }

  /** Makes sure folder `dir` (absolute, at or below the root) exists, fsyncing new ones. */
  async #ensureDir(dir: string): Promise<void> {
    if (this.#known.has(dir)) return;
    if (dir === this.root) {
      const info = await Deno.stat(dir).catch(() => null);
      if (!info?.isDirectory) {
        throw new Deno.errors.NotFound(`repository folder "${this.root}" does not exist`);
      }
    } else {
      try {
        await Deno.mkdir(dir, { mode: 0o700 });
        await syncDir(parentOf(dir));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) {
          await this.#ensureDir(parentOf(dir));
          return this.#ensureDir(dir);
        }
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      }
    }
    this.#known.add(dir);
  }
}

/**
 * Reads up to this many bytes with blocking calls: for small ranged reads they cost a third of
 * the async ones here (52 µs against 166 µs for 64 KiB), and block this worker only briefly.
 */
const SYNC_READ_MAX = 1 << 20;

async function readAsync(path: string, name: string, range?: Range): Promise<Uint8Array> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw notFound(e, name);
  }
  try {
    const { offset, length } = checkRange(await file.stat(), name, range);
    const out = new Uint8Array(length);
    if (offset > 0) await file.seek(offset, Deno.SeekMode.Start);
    for (let got = 0; got < length;) {
      const n = await file.read(out.subarray(got));
      if (n === null) throw new Error(`object "${name}" ended early while being read`);
      got += n;
    }
    return out;
  } finally {
    file.close();
  }
}

function readSync(path: string, name: string, range: Range): Uint8Array {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (e) {
    throw notFound(e, name);
  }
  try {
    const { offset, length } = checkRange(file.statSync(), name, range);
    const out = new Uint8Array(length);
    if (offset > 0) file.seekSync(offset, Deno.SeekMode.Start);
    for (let got = 0; got < length;) {
      const n = file.readSync(out.subarray(got));
      if (n === null) throw new Error(`object "${name}" ended early while being read`);
      got += n;
    }
    return out;
  } finally {
    file.close();
  }
}

/** The range to read (the whole object if none), checked against the object's size. */
function checkRange(info: Deno.FileInfo, name: string, range?: Range): Range {
  if (!info.isFile) throw new ObjectNotFound(`object "${name}" not found`);
  if (range === undefined) return { offset: 0, length: info.size };
  if (range.offset + range.length > info.size) {
    throw new RangeError(
      `range ${range.offset}+${range.length} is past the end of object "${name}" (${info.size} bytes)`,
    );
  }
  return range;
}

/**
 * The error to report for a write that found the disk full (`ENOSPC`) or the user's quota used
 * up (`EDQUOT`), naming what was written and where; `undefined` for any other error.
 */
export function diskFull(e: unknown, what: string, root: string): Error | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (code !== "ENOSPC" && code !== "EDQUOT") return undefined;
  const cause = code === "ENOSPC" ? "the disk is full" : "the disk quota is used up";
  return new Error(
    `${what} could not be written to the repository folder "${root}": ${cause}; free space ` +
      "there (or use a repository on another disk) and run the command again",
  );
}

function isCount(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}

function notFound(e: unknown, name: string): unknown {
  if (
    e instanceof Deno.errors.NotFound || e instanceof Deno.errors.IsADirectory ||
    e instanceof Deno.errors.NotADirectory
  ) {
    return new ObjectNotFound(`object "${name}" not found`);
  }
  return e;
}

/** Whether two files hold the same bytes, compared 1 MiB at a time. */
async function sameFiles(a: string, b: string): Promise<boolean> {
  const [ia, ib] = await Promise.all([Deno.stat(a), Deno.stat(b)]);
  if (!ia.isFile || !ib.isFile || ia.size !== ib.size) return false;
  using fa = await Deno.open(a);
  using fb = await Deno.open(b);
  const ba = new Uint8Array(1 << 20), bb = new Uint8Array(1 << 20);
  for (let left = ia.size; left > 0;) {
    const n = Math.min(left, ba.length);
    await readFull(fa, ba.subarray(0, n));
    await readFull(fb, bb.subarray(0, n));
    for (let i = 0; i < n; i++) if (ba[i] !== bb[i]) return false;
    left -= n;
  }
  return true;
}

async function readFull(file: Deno.FsFile, into: Uint8Array): Promise<void> {
  for (let done = 0; done < into.length;) {
    const n = await file.read(into.subarray(done));
    if (n === null) throw new Error("file ended early");
    done += n;
  }
}
