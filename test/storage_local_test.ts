import { openStorage } from "../host/storage/open.ts";
import { storageConformance } from "./storage_conformance.ts";

storageConformance("local", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pf-local-" });
  const storage = await openStorage(`${dir}/repo`, "admin", { create: true });
  return { storage, cleanup: () => Deno.remove(dir, { recursive: true }) };
});
