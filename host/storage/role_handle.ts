/**
 * The role handle: a `Storage` over a storage plugin that lets through exactly what a role
 * may do (`storageMethodsByRole`, docs/plugins.md §5.1). The plugin itself can do everything
 * its folder or endpoint allows; this handle is what the host hands on.
 *
 * @module
 */

import { CapabilityRefused } from "../../plugins/sdk/errors.ts";
import { ingestMayCreate, ingestMayRead, tierOf } from "../repository/layout.ts";
import {
  type ByteRange,
  type CreateOptions,
  labelPattern,
  type ObjectInfo,
  type ObjectStat,
  type RestoreOptions,
  type Role,
  type Storage,
  type StorageClass,
  storageMethodsByRole,
  type StoreProperties,
  type Stray,
} from "./storage.ts";

/** What a role handle needs from a storage plugin (a `PluginHandle` fits). */
export interface StorageBackend {
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
  close(): Promise<void>;
}

/**
 * `Storage` for one role. Contract: a method the role lacks rejects with `CapabilityRefused`
 * (`the ingest role cannot "delete" objects`) without reaching the plugin; `read` needs the
 * `read` method, or `readHot` and a name `ingestMayRead` accepts (config, keys, index,
 * snapshots), else it rejects with `CapabilityRefused` naming the object; the ingest role may
 * `create` only what a backup writes (`ingestMayCreate`). `create` writes cold objects (by
 * `tierOf`) in `coldClass` and hot ones in `STANDARD`, unless told a class, and passes on its
 * `label` (rejecting one that does not match `labelPattern` with `TypeError`). `create` moves its
 * `data` to the plugin worker: the caller's `Uint8Array` is detached afterwards when it owned
 * its whole buffer (pass a copy to keep it). Everything else is the `Storage` contract.
 */
export class RoleHandle implements Storage {
  readonly role: Role;
  /** The class cold objects are created in (the repository config's `cold_class`). */
  coldClass: StorageClass = "DEEP_ARCHIVE";
  #backend: StorageBackend;
  #may: ReadonlySet<string>;

  constructor(
    backend: StorageBackend,
    role: Role,
    readonly properties?: StoreProperties,
  ) {
    if (!Object.hasOwn(storageMethodsByRole, role)) {
      throw new TypeError(`storage role "${role}" does not exist`);
    }
    this.role = role;
    this.#backend = backend;
    this.#may = new Set(storageMethodsByRole[role]);
  }

  create(name: string, data: Uint8Array, options: CreateOptions = {}): Promise<void> {
    if (this.role === "ingest" && !ingestMayCreate(name)) {
      return Promise.reject(new CapabilityRefused(`the ingest role cannot create "${name}"`));
    }
    const storageClass = options.storageClass ??
      (tierOf(name) === "cold" ? this.coldClass : "STANDARD");
    const { label } = options;
    if (label !== undefined && (typeof label !== "string" || !labelPattern.test(label))) {
      return Promise.reject(new TypeError(`label "${label}" of object "${name}" is not valid`));
    }
    return this.#call("create", name, data, { storageClass, ...(label ? { label } : {}) });
  }

  read(name: string, range?: ByteRange): Promise<Uint8Array> {
    if (!this.#may.has("read") && !(this.#may.has("readHot") && ingestMayRead(name))) {
      return Promise.reject(new CapabilityRefused(`the ${this.role} role cannot read "${name}"`));
    }
    return this.#backend.call("read", name, ...(range ? [range] : []));
  }

  stat(name: string): Promise<ObjectStat | null> {
    return this.#call("stat", name);
  }

  requestRestore(name: string, options: RestoreOptions): Promise<void> {
    return this.#call("requestRestore", name, options);
  }

  list(prefix: string): Promise<ObjectInfo[]> {
    return this.#call("list", prefix);
  }

  delete(name: string): Promise<void> {
    return this.#call("delete", name);
  }

  strays(): Promise<Stray[]> {
    return this.#call("strays");
  }

  removeStray(name: string): Promise<void> {
    return this.#call("removeStray", name);
  }

  close(): Promise<void> {
    return this.#backend.close();
  }

  #call<T>(method: string, ...args: unknown[]): Promise<T> {
    if (!this.#may.has(method)) {
      return Promise.reject(
        new CapabilityRefused(`the ${this.role} role cannot "${method}" objects`),
      );
    }
    return this.#backend.call<T>(method, ...args);
  }
}
