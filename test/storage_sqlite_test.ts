import { openStorage } from "../host/storage/open.ts";
import { storageConformance } from "./storage_conformance.ts";

storageConformance("sqlite", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pf-sqlite-" });
  const location = `sqlite:${dir}/repo.db`;
  const storage = await openStorage(location, "admin", { create: true });
  return {
    storage,
    reopen: () => openStorage(location, "admin"),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});
