/**
 * The `sync` engine's options (a source's `engine_config`, docs/engines.md `sync`), checked at
 * start-up: `storage_class` (size rules, first match wins, default `STANDARD`), `versioned`,
 * `encrypt` (each file sealed to the repository's public key, docs/format.md §8.1). Anything
 * else, a class that is not one and a size that does not parse are refused with a `TypeError`
 * naming the key.
 *
 * @module
 */

import {
  readSize,
  refuseUnknownOptions,
  SIZE_UNITS,
  type StorageClass,
  storageClasses,
} from "../../sdk/mod.ts";

/** A storage class rule: files larger than `largerThan` bytes (all, when absent) go to `class`. */
export interface ClassRule {
  largerThan?: number;
  class: StorageClass;
}

export interface SyncOptions {
  classes: ClassRule[];
  /** `true`: versions required; `false`: create-only; absent: as the store is. */
  versioned?: boolean;
  /** Each file sealed (docs/format.md §8.1) instead of a plain object; off by default. */
  encrypt: boolean;
}

/** Checks `options`; see the module doc. */
export function syncOptions(options: Record<string, unknown>): SyncOptions {
  refuseUnknownOptions("sync", options, ["storage_class", "versioned", "encrypt"]);
  const { storage_class: classes = [], versioned, encrypt } = options;
  if (encrypt !== undefined && typeof encrypt !== "boolean") {
    throw new TypeError(`engine "sync" engine_config "encrypt" must be true or false`);
  }
  if (versioned !== undefined && typeof versioned !== "boolean") {
    throw new TypeError(`engine "sync" engine_config "versioned" must be true or false`);
  }
  if (!Array.isArray(classes)) {
    throw new TypeError(
      `engine "sync" engine_config "storage_class" must be a list of {larger_than?, class} rules`,
    );
  }
  const rules = classes.map((rule, i) => classRule(rule, i));
  return {
    classes: rules,
    ...(versioned !== undefined ? { versioned } : {}),
    encrypt: encrypt === true,
  };
}

/** The class of a file of `size` bytes: the first rule it matches, else `STANDARD`. */
export function classFor(rules: ClassRule[], size: number): StorageClass {
  for (const r of rules) if (r.largerThan === undefined || size > r.largerThan) return r.class;
  return "STANDARD";
}

function classRule(rule: unknown, i: number): ClassRule {
  const at = `engine "sync" engine_config "storage_class" rule ${i + 1}`;
  if (typeof rule !== "object" || rule === null || Array.isArray(rule)) {
    throw new TypeError(`${at} must be a table {larger_than?, class}`);
  }
  const r = rule as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (key !== "larger_than" && key !== "class") {
      throw new TypeError(`${at} has an unknown key "${key}" (takes "larger_than", "class")`);
    }
  }
  if (!storageClasses.includes(r.class as StorageClass)) {
    throw new TypeError(
      `${at}: "${r.class}" is not a storage class (${storageClasses.join(", ")})`,
    );
  }
  const out: ClassRule = { class: r.class as StorageClass };
  if (r.larger_than !== undefined) out.largerThan = size(r.larger_than, at);
  return out;
}

function size(value: unknown, at: string): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  const bytes = typeof value === "string" ? readSize(value) : undefined;
  if (bytes === undefined) {
    throw new TypeError(
      `${at}: "larger_than" ${JSON.stringify(value)} is not a size (a number with an optional ` +
        `unit: ${SIZE_UNITS})`,
    );
  }
  return bytes;
}
