import { openStorage } from "../host/storage/open.ts";
import { storageConformance } from "./storage_conformance.ts";

storageConformance("local", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pf-local-" });
  const storage = await openStorage(`${dir}/repo`, "admin", { create: true });
  return {
    storage,
    reopen: () => openStorage(`${dir}/repo`, "admin"),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});

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
    };
  },
  { cold: { restoreDelaySeconds: RESTORE_DELAY_SECONDS }, labels: "archived" },
);
