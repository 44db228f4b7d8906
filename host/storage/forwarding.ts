/**
 * A storage that passes every call, and the store's declared properties, to another one: the
 * base of wrappers that change a few calls (the dry run; tests that stage races or count
 * writes). A subclass overrides what it changes and nothing else, so a method added to the
 * contract is forwarded by every wrapper at once.
 *
 * @module
 */

import type {
  ByteRange,
  CreateOptions,
  ObjectInfo,
  ObjectStat,
  RestoreOptions,
  Storage,
  StoreProperties,
  Stray,
} from "./storage.ts";

export class ForwardingStorage implements Storage {
  constructor(protected readonly inner: Storage) {}

  get properties(): StoreProperties | undefined {
    return this.inner.properties;
  }
  create(name: string, data: Uint8Array, options?: CreateOptions): Promise<void> {
    return this.inner.create(name, data, options);
  }
  read(name: string, range?: ByteRange): Promise<Uint8Array> {
    return this.inner.read(name, range);
  }
  stat(name: string): Promise<ObjectStat | null> {
    return this.inner.stat(name);
  }
  list(prefix: string): Promise<ObjectInfo[]> {
    return this.inner.list(prefix);
  }
  requestRestore(name: string, options: RestoreOptions): Promise<void> {
    return this.inner.requestRestore(name, options);
  }
  delete(name: string): Promise<void> {
    return this.inner.delete(name);
  }
  strays(): Promise<Stray[]> {
    return this.inner.strays();
  }
  removeStray(name: string): Promise<void> {
    return this.inner.removeStray(name);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
