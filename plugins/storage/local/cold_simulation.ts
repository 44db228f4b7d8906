/**
 * The local store's "simulate cold" mode (`local:PATH?cold=simulate&restore-delay=SECONDS`):
 * objects created in an archive class behave like S3's GLACIER and DEEP_ARCHIVE, so restore
 * paths can be tested without the cloud. Without this mode no class is recorded and every
 * object is readable.
 *
 * State: one record per object created in a class other than STANDARD, in the reserved folder
 * `<root>/.cold/` (never an object), named `<sha256(object name) in hex>.json`:
 *
 * ```json
 * {"v":1,"name":"packs/…","storageClass":"DEEP_ARCHIVE","label":"meta",
 *  "restore":{"tier":"bulk","days":1,"requestedAt":"…","readyAt":"…","until":"…"}}
 * ```
 *
 * `label` is the create's label (`CreateOptions.label`), if it gave one: the record is where
 * the store keeps labels, so objects in STANDARD (which have no record and are always
 * readable) lose theirs, as the Storage contract allows. `restore` is present once a restore
 * was requested. Records are replaced whole (written in
 * `tmp/`, fsync'd, renamed, folder fsync'd), so state survives a crash or a restart and every
 * process opening the folder sees the same states. An object without a record is STANDARD.
 *
 * Rules (S3-like, kept simple):
 * - Availability at time `now`: a class other than GLACIER/DEEP_ARCHIVE is `readable`; an
 *   archive-class object is `restoring` while `now < readyAt`, `restored` while
 *   `now < until`, and `archived` otherwise (never requested, or the copy expired).
 * - A request sets `readyAt = requestedAt + restore-delay` (every tier takes the same delay)
 *   and `until = requestedAt + days`. A repeated request while `restoring` changes nothing (a
 *   faster tier is not honoured); while `restored` it extends `until` to `now + days` if that
 *   is later (S3 lets a new request reset the expiry); after expiry it starts a new restore.
 * - `expedited` is refused for DEEP_ARCHIVE, as S3 does.
 * - The record is written after the object is linked in place, so a crash between the two
 *   leaves the object STANDARD (readable): the simulation errs on the readable side. A stale
 *   record (its object deleted, crash before the record was) is replaced or removed by the
 *   next create of that name and ignored while the object is missing.
 *
 * @module
 */

import {
  archiveClasses,
  type Availability,
  type RestoreTier,
  restoreTiers,
  type StorageClass,
  storageClasses,
} from "../../sdk/storage.ts";
import { COLD_DIR, TMP_DIR } from "./object_path.ts";
import { replaceFile, syncDir } from "./durable_file.ts";

export type { Availability, RestoreTier, StorageClass };

/** A running or finished restore. Times are ISO 8601. */
export interface RestoreRecord {
  tier: RestoreTier;
  days: number;
  requestedAt: string;
  readyAt: string;
  until: string;
}

/** One object's record in `.cold/`. */
export interface ColdRecord {
  v: 1;
  name: string;
  storageClass: StorageClass;
  label?: string;
  restore?: RestoreRecord;
}

const DAY_MS = 86_400_000;
const RECORD_VERSION = 1;

/**
 * The records of one repository folder. Contract: `setClass` is called once per object, by
 * the create that linked it; `get` and `all` return records as last written (by any
 * process); `requestRestore` expects an existing object's record; `forget` is idempotent.
 */
export class ColdSimulation {
  readonly #root: string;
  readonly #delayMs: number;
  readonly #now: () => number;
  #haveDir = false;

  /**
   * `root`: the repository folder (absolute). `restoreDelaySeconds`: how long a restore takes.
   * `now`: the clock, in ms since the epoch (tests move it).
   */
  constructor(root: string, restoreDelaySeconds: number, now: () => number = Date.now) {
    if (!(Number.isFinite(restoreDelaySeconds) && restoreDelaySeconds >= 0)) {
      throw new TypeError(`restore delay "${restoreDelaySeconds}" is not a number of seconds`);
    }
    this.#root = root;
    this.#delayMs = restoreDelaySeconds * 1000;
    this.#now = now;
  }

  /** Creates `.cold/` if missing. Idempotent. */
  async init(): Promise<void> {
    if (this.#haveDir) return;
    try {
      await Deno.mkdir(this.#dir, { mode: 0o700 });
      await syncDir(this.#root);
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    this.#haveDir = true;
  }

  /**
   * Records that `name` was created in `storageClass`, with `label` if given (STANDARD: removes
   * any stale record, and the label is not kept).
   */
  async setClass(name: string, storageClass: StorageClass, label?: string): Promise<void> {
    if (storageClass === "STANDARD") return this.forget(name);
    await this.#write({ v: RECORD_VERSION, name, storageClass, ...(label ? { label } : {}) });
  }

  /** `name`'s record, or `null` (a STANDARD object, or no object). */
  async get(name: string): Promise<ColdRecord | null> {
    try {
      return parseRecord(await Deno.readTextFile(await this.#file(name)), name);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
  }

  /** Every record, by object name. */
  async all(): Promise<Map<string, ColdRecord>> {
    const out = new Map<string, ColdRecord>();
    const files: string[] = [];
    try {
      for await (const e of Deno.readDir(this.#dir)) {
        if (e.isFile && e.name.endsWith(".json")) files.push(`${this.#dir}/${e.name}`);
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return out;
      throw e;
    }
    for (let i = 0; i < files.length; i += 64) {
      const texts = await Promise.all(
        files.slice(i, i + 64).map((f) => Deno.readTextFile(f).catch(() => null)),
      );
      for (const [j, text] of texts.entries()) {
        if (text === null) continue; // removed meanwhile
        const record = parseRecord(text, files[i + j]);
        out.set(record.name, record);
      }
    }
    return out;
  }

  /** The availability `record` gives now (`null`: a STANDARD object). */
  availability(record: ColdRecord | null): Availability {
    if (record === null || !archiveClasses.has(record.storageClass)) return { state: "readable" };
    const r = record.restore;
    const now = this.#now();
    if (r === undefined || now >= Date.parse(r.until)) return { state: "archived" };
    if (now < Date.parse(r.readyAt)) return { state: "restoring" };
    return { state: "restored", until: r.until };
  }

  /**
   * Applies a restore request to an existing object's `record` (see the rules above); does
   * nothing for a class that is not archived. Rejects `TypeError` for `expedited` on
   * DEEP_ARCHIVE.
   */
  async requestRestore(
    record: ColdRecord | null,
    tier: RestoreTier,
    days: number,
  ): Promise<void> {
    if (record === null || !archiveClasses.has(record.storageClass)) return;
    if (tier === "expedited" && record.storageClass === "DEEP_ARCHIVE") {
      throw new TypeError(
        `object "${record.name}" is in DEEP_ARCHIVE, which has no "expedited" restores`,
      );
    }
    const now = this.#now();
    const state = this.availability(record).state;
    if (state === "restoring") return;
    if (state === "restored") {
      const until = now + days * DAY_MS;
      if (until <= Date.parse(record.restore!.until)) return;
      await this.#write({ ...record, restore: { ...record.restore!, until: iso(until) } });
      return;
    }
    const restore: RestoreRecord = {
      tier,
      days,
      requestedAt: iso(now),
      readyAt: iso(now + this.#delayMs),
      until: iso(now + days * DAY_MS),
    };
    await this.#write({ ...record, restore });
  }

  /** Removes `name`'s record, if any. */
  async forget(name: string): Promise<void> {
    try {
      await Deno.remove(await this.#file(name));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    await syncDir(this.#dir);
  }

  get #dir(): string {
    return `${this.#root}/${COLD_DIR}`;
  }

  async #file(name: string): Promise<string> {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(name));
    const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0"));
    return `${this.#dir}/${hex.join("")}.json`;
  }

  async #write(record: ColdRecord): Promise<void> {
    await this.init();
    const bytes = new TextEncoder().encode(JSON.stringify(record));
    await replaceFile(`${this.#root}/${TMP_DIR}`, await this.#file(record.name), bytes);
  }
}

/** Checks a restore request's options; `TypeError` naming the object otherwise. */
export function checkRestoreOptions(
  name: string,
  options: unknown,
): { tier: RestoreTier; days: number } {
  const o = options as { tier?: unknown; days?: unknown } | null;
  if (typeof o !== "object" || o === null || !restoreTiers.includes(o.tier as RestoreTier)) {
    throw new TypeError(`restore of object "${name}" needs a tier: ${restoreTiers.join(", ")}`);
  }
  if (!Number.isSafeInteger(o.days) || (o.days as number) < 1) {
    throw new TypeError(`restore of object "${name}" needs a whole number of days, 1 or more`);
  }
  return { tier: o.tier as RestoreTier, days: o.days as number };
}

/** Whether `c` is a known storage class. */
export function isStorageClass(c: unknown): c is StorageClass {
  return storageClasses.includes(c as StorageClass);
}

function parseRecord(text: string, where: string): ColdRecord {
  const r = JSON.parse(text) as ColdRecord;
  if (
    r?.v !== RECORD_VERSION || typeof r.name !== "string" || !isStorageClass(r.storageClass) ||
    (r.label !== undefined && typeof r.label !== "string")
  ) {
    throw new TypeError(`cold record "${where}" is not a version ${RECORD_VERSION} record`);
  }
  return r;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
