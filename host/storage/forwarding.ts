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
  UploadStart,
  VersionInfo,
  Versioning,
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
  versioning(): Promise<Versioning> {
    return this.inner.versioning();
  }
  putVersion(name: string, data: Uint8Array, options?: CreateOptions): Promise<string> {
    return this.inner.putVersion(name, data, options);
  }
  readVersion(name: string, version: string, range?: ByteRange): Promise<Uint8Array> {
    return this.inner.readVersion(name, version, range);
  }
  statVersion(name: string, version: string): Promise<ObjectStat | null> {
    return this.inner.statVersion(name, version);
  }
  listVersions(prefix: string): Promise<VersionInfo[]> {
    return this.inner.listVersions(prefix);
  }
  deleteVersion(name: string, version: string): Promise<void> {
    return this.inner.deleteVersion(name, version);
  }
  startUpload(name: string, start: UploadStart): Promise<string> {
    return this.inner.startUpload ? this.inner.startUpload(name, start) : noPieces("startUpload");
  }
  writeUpload(upload: string, data: Uint8Array): Promise<void> {
    return this.inner.writeUpload ? this.inner.writeUpload(upload, data) : noPieces("writeUpload");
  }
  finishUpload(upload: string): Promise<{ version?: string }> {
    return this.inner.finishUpload ? this.inner.finishUpload(upload) : noPieces("finishUpload");
  }
  abortUpload(upload: string): Promise<void> {
    return this.inner.abortUpload ? this.inner.abortUpload(upload) : noPieces("abortUpload");
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

function noPieces<T>(method: string): Promise<T> {
  return Promise.reject(new TypeError(`this store takes no object in pieces ("${method}")`));
}
