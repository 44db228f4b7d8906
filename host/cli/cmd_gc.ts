/**
 * `gc STAGE`: garbage collection in stages (docs/gc.md). One table maps each stage to its
 * command and the options it takes, so adding a stage is one line.
 *
 * @module
 */

import { cmdGcCompact, gcCompactOptions } from "./cmd_gc_compact.ts";
import { cmdGcIndex, gcIndexOptions } from "./cmd_gc_index.ts";
import { cmdGcMark, gcMarkOptions } from "./cmd_gc_mark.ts";
import { cmdGcPurge, gcPurgeOptions } from "./cmd_gc_purge.ts";
import { UsageError } from "./context.ts";
import type { CommandGroup } from "./options.ts";

const stages = {
  mark: { options: gcMarkOptions, run: cmdGcMark },
  compact: { options: gcCompactOptions, run: cmdGcCompact },
  purge: { options: gcPurgeOptions, run: cmdGcPurge },
  index: { options: gcIndexOptions, run: cmdGcIndex },
};

export const gcCommands: CommandGroup = {
  subcommands: stages,
  refuse(stage) {
    const names = Object.keys(stages).join(", ");
    return new UsageError(
      stage === undefined
        ? `gc needs a stage: ${names}`
        : `unknown gc stage "${stage}"; the stages are: ${names}`,
    );
  },
};
