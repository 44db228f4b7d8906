/**
 * The dry-run wrapper: reads pass through, writes are counted and dropped. `backup --dry-run`
 * runs the real pipeline over it, so its numbers are the numbers a real run would write.
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

export class DryRunStorage implements Storage {
  /** Objects that would have been created, with their sizes (and labels, when given). */
  readonly created: (ObjectInfo & { label?: string })[] = [];

  constructor(private inner: Storage) {}

  get properties(): StoreProperties | undefined {
    return this.inner.properties;
  }

  create(name: string, data: Uint8Array, options: CreateOptions = {}): Promise<void> {
    this.created.push({
      name,
      size: data.length,
      ...(options.label ? { label: options.label } : {}),
    });
    return Promise.resolve();
  }
  read(name: string, range?: ByteRange): Promise<Uint8Array> {
    return this.inner.read(name, range);
  }
  stat(name: string): Promise<ObjectStat | null> {
    return this.inner.stat(name);
  }
  requestRestore(_name: string, _options: RestoreOptions): Promise<void> {
    return Promise.resolve();
  }
  list(prefix: string): Promise<ObjectInfo[]> {
    return this.inner.list(prefix);
  }
  delete(_name: string): Promise<void> {
    return Promise.resolve();
  }
  strays(): Promise<Stray[]> {
    return this.inner.strays();
  }
  removeStray(_name: string): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
