/**
 * The dry-run wrapper: reads pass through, writes are counted and dropped. `backup --dry-run`
 * runs the real pipeline over it, so its numbers are the numbers a real run would write.
 *
 * @module
 */

import { ForwardingStorage } from "./forwarding.ts";
import type { CreateOptions, ObjectInfo, RestoreOptions, UploadStart } from "./storage.ts";

export class DryRunStorage extends ForwardingStorage {
  /**
   * Objects that would have been created, with their sizes (and labels and classes, when
   * given).
   */
  readonly created: (ObjectInfo & { label?: string })[] = [];

  override create(name: string, data: Uint8Array, options: CreateOptions = {}): Promise<void> {
    this.created.push({
      name,
      size: data.length,
      ...(options.label ? { label: options.label } : {}),
      ...(options.storageClass ? { storageClass: options.storageClass } : {}),
    });
    return Promise.resolve();
  }
  override putVersion(
    name: string,
    data: Uint8Array,
    options: CreateOptions = {},
  ): Promise<string> {
    this.created.push({
      name,
      size: data.length,
      ...(options.storageClass ? { storageClass: options.storageClass } : {}),
    });
    return Promise.resolve("dry-run");
  }
  override startUpload(name: string, start: UploadStart): Promise<string> {
    this.created.push({
      name,
      size: start.size,
      ...(start.label ? { label: start.label } : {}),
      ...(start.storageClass ? { storageClass: start.storageClass } : {}),
    });
    return Promise.resolve("dry-run");
  }
  override writeUpload(_upload: string, _data: Uint8Array): Promise<void> {
    return Promise.resolve();
  }
  override finishUpload(_upload: string): Promise<{ version?: string }> {
    return Promise.resolve({ version: "dry-run" });
  }
  override abortUpload(_upload: string): Promise<void> {
    return Promise.resolve();
  }
  override deleteVersion(_name: string, _version: string): Promise<void> {
    return Promise.resolve();
  }
  override requestRestore(_name: string, _options: RestoreOptions): Promise<void> {
    return Promise.resolve();
  }
  override delete(_name: string): Promise<void> {
    return Promise.resolve();
  }
  override removeStray(_name: string): Promise<void> {
    return Promise.resolve();
  }
}
