import { Repository } from "../repository/repository.ts";
import { openStorage } from "../storage/open.ts";
import { parseSize } from "./size.ts";
import { type Context, UsageError } from "./context.ts";
import { type StorageClass, storageClasses } from "../storage/storage.ts";

/** `init [--repo R] [--pack-size SIZE] [--cold-class CLASS]`: creates a repository and its master key. */
export async function cmdInit(ctx: Context): Promise<number> {
  const location = ctx.requireRepo();
  const repo = await initRepository(ctx, location);
  ctx.print(
    { id: repo.config.id, location, config: repo.config },
    () => `created repository ${repo.config.id.slice(0, 8)} at ${location}`,
  );
  await repo.storage.close();
  return 0;
}

/** Creates a repository at `location` with a passphrase asked twice. */
export async function initRepository(ctx: Context, location: string): Promise<Repository> {
  // Parse everything before anything is created.
  const packSize = ctx.string("pack-size");
  const memlimit = ctx.string("kdf-memlimit");
  const dataSize = packSize ? parseSize(packSize) : undefined;
  const kdfMemlimit = memlimit ? parseSize(memlimit) : undefined;
  const coldClass = ctx.string("cold-class");
  if (coldClass !== undefined && !storageClasses.includes(coldClass as StorageClass)) {
    throw new UsageError(`--cold-class must be one of ${storageClasses.join(", ")}`);
  }
  const passphrase = await ctx.passphrase(true, "new repository passphrase");
  const storage = await openStorage(location, "admin", { create: true });
  try {
    return await Repository.init(storage, passphrase, {
      config: {
        ...(dataSize ? { pack: { dataSize } } : {}),
        ...(coldClass ? { cold: { storageClass: coldClass as StorageClass } } : {}),
      },
      kdf: kdfMemlimit ? { opslimit: 2, memlimit: kdfMemlimit } : undefined,
    });
  } catch (err) {
    await storage.close();
    throw err;
  }
}
