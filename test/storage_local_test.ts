import { openStorage } from "../host/storage/open.ts";
import { randomBytes, randomId, storageConformance } from "./storage_conformance.ts";

/** What a create killed before its link leaves in the folder `root`: a file in `tmp/`. */
const interruptWrite = (root: string) => (size: number) =>
  Deno.writeFile(`${root}/tmp/${randomId().slice(0, 32)}`, randomBytes(size));

storageConformance("local", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pf-local-" });
  const storage = await openStorage(`${dir}/repo`, "admin", { create: true });
  return {
    storage,
    reopen: () => openStorage(`${dir}/repo`, "admin"),
    cleanup: () => Deno.remove(dir, { recursive: true }),
    interruptWrite: interruptWrite(`${dir}/repo`),
  };
}, { strays: true });

const RESTORE_DELAY_SECONDS = 1;

storageConformance(
  "local, cold=simulate",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "pf-localcold-" });
    const location = `local:${dir}/repo?cold=simulate&restore-delay=${RESTORE_DELAY_SECONDS}`;
    const storage = await openStorage(location, "admin", { create: true });
    return {
      storage,
      reopen: () => openStorage(location, "admin"),
      cleanup: () => Deno.remove(dir, { recursive: true }),
      interruptWrite: interruptWrite(`${dir}/repo`),
    };
  },
  { cold: { restoreDelaySeconds: RESTORE_DELAY_SECONDS }, labels: "archived", strays: true },
);
