import { Repository } from "../repository/repository.ts";
import { openStorage } from "../storage/open.ts";
import { parseSize } from "./size.ts";
import type { Context } from "./context.ts";

/** `init [--repo R] [--pack-size SIZE]`: creates a repository and its master key. */
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
  const passphrase = await ctx.passphrase(true, "new repository passphrase");
  const storage = await openStorage(location, "admin", { create: true });
  try {
    const packSize = ctx.string("pack-size");
    const memlimit = ctx.string("kdf-memlimit");
    return await Repository.init(storage, passphrase, {
      config: packSize
        ? { pack: { dataSize: parseSize(packSize), metaSize: 8 << 20, frameSize: 256 << 10 } }
        : {},
      kdf: memlimit ? { opslimit: 2, memlimit: parseSize(memlimit) } : undefined,
    });
  } catch (err) {
    await storage.close();
    throw err;
  }
}
