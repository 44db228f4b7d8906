/**
 * The dry-run wrapper: reads pass through, writes are counted and dropped. `backup --dry-run`
 * runs the real pipeline over it, so its numbers are the numbers a real run would write.
 *
 * @module
 */

import { ForwardingStorage } from "./forwarding.ts";
import type { CreateOptions, ObjectInfo, RestoreOptions } from "./storage.ts";

export class DryRunStorage extends ForwardingStorage {
  /** Objects that would have been created, with their sizes (and labels, when given). */
  readonly created: (ObjectInfo & { label?: string })[] = [];

  override create(name: string, data: Uint8Array, options: CreateOptions = {}): Promise<void> {
    this.created.push({
      name,
      size: data.length,
      ...(options.label ? { label: options.label } : {}),
    });
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
