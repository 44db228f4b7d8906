/**
 * `daemon [--once]`: runs the schedules (docs/schedules.md "The daemon"), each task as a
 * sandboxed subprocess, logging one line per event on stderr (warnings for exit 5). SIGINT or
 * SIGTERM stop it once the runs under way end; `--once` runs only the catch-up runs due now.
 *
 * @module
 */

import { runDaemon } from "../schedule/daemon.ts";
import { schedulesFile } from "../schedule/schedule_file.ts";
import { stopOnSignal } from "../storage/orderly_close.ts";
import type { Context } from "./context.ts";
import { refuseExtraArguments } from "./options.ts";
import { logLine } from "./cmd_schedule.ts";

export const daemonOptions = { once: { type: "boolean" } } as const;

export async function cmdDaemon(ctx: Context): Promise<number> {
  refuseExtraArguments(ctx, 0);
  const stop = new AbortController();
  const release = stopOnSignal(() => {
    logLine("info", "stopping: no new runs; waiting for the runs under way");
    stop.abort();
  });
  try {
    await runDaemon({
      file: schedulesFile(),
      once: ctx.bool("once"),
      log: logLine,
      signal: stop.signal,
    });
  } finally {
    release();
  }
  return 0;
}
