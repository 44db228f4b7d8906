/**
 * The `local` storage plugin: a repository in a local folder (see `local_store.ts` for the
 * layout and guarantees). Config: `{ location: string, cold?: { restoreDelaySeconds: number } }`:
 * `location` is the absolute folder path, which is also the only path the host lets this
 * worker read and write (`$location`); `cold` turns on the simulated archive classes
 * (`cold_simulation.ts`, location option `?cold=simulate&restore-delay=SECONDS`).
 *
 * @module
 */

import { release, servePlugin } from "../../sdk/storage.ts";
import type { StorageClass } from "./cold_simulation.ts";
import { LocalStore, type UploadStart } from "./local_store.ts";

servePlugin((ctx) => {
  const store = new LocalStore(...parseConfig(ctx.config));
  return {
    init: () => store.init(),
    // The bytes were moved here by the host: free them as soon as they are in the file, before
    // its fsync (a 64 MiB pack should not wait for the disk, nor for this worker's next GC).
    create: (
      name: string,
      data: Uint8Array,
      options?: { storageClass?: StorageClass; label?: string },
    ) => store.create(name, data, options, () => release(data)).finally(() => release(data)),
    read: (name: string, range?: { offset: number; length: number }) => store.read(name, range),
    stat: (name: string) => store.stat(name),
    requestRestore: (name: string, options: unknown) => store.requestRestore(name, options),
    list: (prefix: string) => store.list(prefix),
    delete: (name: string) => store.delete(name),
    strays: () => store.strays(),
    removeStray: (name: string) => store.removeStray(name),
    // Objects in pieces (a spooled data pack): each piece is freed once written.
    startUpload: (name: string, start: UploadStart) => store.startUpload(name, start),
    writeUpload: (upload: string, data: Uint8Array) =>
      store.writeUpload(upload, data).finally(() => release(data)),
    finishUpload: (upload: string) => store.finishUpload(upload),
    abortUpload: (upload: string) => store.abortUpload(upload),
  };
});

function parseConfig(config: unknown): ConstructorParameters<typeof LocalStore> {
  const c = config as Record<string, unknown> | null;
  if (typeof c !== "object" || c === null || typeof c.location !== "string") {
    throw new TypeError(`storage "local" needs config "location", an absolute folder path`);
  }
  for (const key of Object.keys(c)) {
    if (key !== "location" && key !== "cold") {
      throw new TypeError(`storage "local" has no option "${key}"`);
    }
  }
  if (c.cold === undefined) return [c.location];
  const cold = c.cold as Record<string, unknown> | null;
  const delay = cold?.restoreDelaySeconds;
  if (
    typeof cold !== "object" || cold === null || Object.keys(cold).length !== 1 ||
    typeof delay !== "number" || !Number.isFinite(delay) || delay < 0
  ) {
    throw new TypeError(`storage "local" option "cold" must be { restoreDelaySeconds: seconds }`);
  }
  return [c.location, { cold: { restoreDelaySeconds: delay } }];
}
