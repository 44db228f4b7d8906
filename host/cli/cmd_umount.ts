import { type Context, UsageError } from "./context.ts";
import { type OptionTable, refuseExtraArguments } from "./options.ts";

export const umountOptions = {} as const satisfies OptionTable;

/**
 * `umount DIR`: unmounts a `permafrost mount` (also one whose process was killed; DIR may be a
 * symlink to it) with `fusermount3 -u`; the mount's process then exits 0. Refuses a folder that
 * is not one.
 */
export async function cmdUmount(ctx: Context): Promise<number> {
  const [dir] = ctx.positionals;
  refuseExtraArguments(ctx, 1);
  if (!dir) throw new UsageError("umount needs the folder a `permafrost mount` serves");
  const { isPermafrostMount, unmountFolder } = await import("../mount/unmount.ts");
  if (!(await isPermafrostMount(dir))) {
    throw new Deno.errors.NotFound(`"${dir}" is not a folder a \`permafrost mount\` serves`);
  }
  await unmountFolder(dir);
  console.error(`permafrost umount: "${dir}" unmounted`);
  return 0;
}
