/**
 * The role handle: a `Storage` over a storage plugin that lets through exactly what a role
 * may do (`storageMethodsByRole`, docs/plugins.md §5.1). The plugin itself can do everything
 * its folder or endpoint allows; this handle is what the host hands on.
 *
 * @module
 */

import { CapabilityRefused } from "../../plugins/sdk/errors.ts";
import { ingestMayCreate, ingestMayRead, isMirror, tierOf } from "../repository/layout.ts";
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
  type UploadStart,
  type VersionInfo,
  type Versioning,
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
 * its whole buffer (pass a copy to keep it). The version words reach the plugin only when the
 * store declares `versions` (else `versioning` resolves `off` and the others reject with
 * `TypeError`), and `putVersion` only for a mirror's object (`isMirror`). The words of an upload
 * in pieces reach it only when the store declares `pieces`, and `startUpload` is refused as
 * `create` (or `putVersion`, for a version) of that name would be. Everything else is the
 * `Storage` contract.
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

  /**
   * Asks the store to delete every version too (on a store that keeps them), except of a
   * mirror's object: those only `deleteVersion` removes, one by one (docs/engines.md `sync`).
   */
  delete(name: string): Promise<void> {
    return this.#call("delete", name, ...(isMirror(name) ? [] : [{ versions: true }]));
  }

  strays(): Promise<Stray[]> {
    return this.#call("strays");
  }

  removeStray(name: string): Promise<void> {
    return this.#call("removeStray", name);
  }

  versioning(): Promise<Versioning> {
    if (!this.properties?.versions) return Promise.resolve("off");
    return this.#call("versioning");
  }

  putVersion(name: string, data: Uint8Array, options: CreateOptions = {}): Promise<string> {
    if (!isMirror(name)) {
      return Promise.reject(
        new CapabilityRefused(`only a mirror's objects are written as versions, not "${name}"`),
      );
    }
    return this.#versions("putVersion", name, data, {
      storageClass: options.storageClass ?? "STANDARD",
    });
  }

  readVersion(name: string, version: string, range?: ByteRange): Promise<Uint8Array> {
    return this.#versions("readVersion", name, version, ...(range ? [range] : []));
  }

  statVersion(name: string, version: string): Promise<ObjectStat | null> {
    return this.#versions("statVersion", name, version);
  }

  listVersions(prefix: string): Promise<VersionInfo[]> {
    return this.#versions("listVersions", prefix);
  }

  deleteVersion(name: string, version: string): Promise<void> {
    return this.#versions("deleteVersion", name, version);
  }

  /**
   * An upload in pieces: refused as `create` would refuse `name` (as `putVersion` for a
   * `version`), and on a store without `pieces` with `TypeError`.
   */
  startUpload(name: string, start: UploadStart): Promise<string> {
    if (start?.version === true) {
      if (!isMirror(name)) {
        return Promise.reject(
          new CapabilityRefused(`only a mirror's objects are written as versions, not "${name}"`),
        );
      }
    } else if (this.role === "ingest" && !ingestMayCreate(name)) {
      return Promise.reject(new CapabilityRefused(`the ingest role cannot create "${name}"`));
    }
    const storageClass = start?.storageClass ??
      (!start?.version && tierOf(name) === "cold" ? this.coldClass : "STANDARD");
    const { label } = start ?? {};
    if (label !== undefined && (typeof label !== "string" || !labelPattern.test(label))) {
      return Promise.reject(new TypeError(`label "${label}" of object "${name}" is not valid`));
    }
    return this.#pieces("startUpload", name, { ...start, storageClass });
  }

  writeUpload(upload: string, data: Uint8Array): Promise<void> {
    return this.#pieces("writeUpload", upload, data);
  }

  finishUpload(upload: string): Promise<{ version?: string }> {
    return this.#pieces("finishUpload", upload);
  }

  abortUpload(upload: string): Promise<void> {
    return this.#pieces("abortUpload", upload);
  }

  close(): Promise<void> {
    return this.#backend.close();
  }

  /** A word of an upload in pieces: refused by role first, then on a store without pieces. */
  #pieces<T>(method: string, ...args: unknown[]): Promise<T> {
    if (this.#may.has(method) && !this.properties?.pieces) {
      return Promise.reject(
        new TypeError(`this store takes no object in pieces ("${method}" of "${args[0]}")`),
      );
    }
    return this.#call<T>(method, ...args);
  }

  /** A version word: refused by role first, then on a store without versions. */
  #versions<T>(method: string, ...args: unknown[]): Promise<T> {
    if (this.#may.has(method) && !this.properties?.versions) {
      return Promise.reject(
        new TypeError(`this store keeps no object versions ("${method}" of "${args[0]}")`),
      );
    }
    return this.#call<T>(method, ...args);
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
