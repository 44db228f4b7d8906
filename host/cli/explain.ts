/**
 * Turns an error into one line the user can act on, and an exit status. Never a stack trace
 * for a user mistake (set PERMAFROST_DEBUG=1 to see one).
 *
 * @module
 */

import { UsageError } from "./context.ts";

const hints: Record<string, string> = {
  WrongPassphrase: "check PERMAFROST_PASSWORD / PERMAFROST_PASSWORD_FILE",
  NotARepository: "create one with `permafrost init`, or check --repo / PERMAFROST_REPO",
  KeyCannotRead: "",
  IntegrityError: "run `permafrost check --read-data` to list every damaged pack",
  CapabilityRefused: "",
  NeedsRestore: "it is in cold storage: `permafrost restore` requests it and waits, or resumes",
};

export function explain(err: unknown): { message: string; status: number } {
  if (err instanceof UsageError) return { message: err.message, status: 2 };
  if (err instanceof Error) {
    if (err.name === "TypeError" && (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      return { message: err.message, status: 2 };
    }
    const hint = hints[err.name];
    return { message: hint ? `${err.message} (${hint})` : err.message, status: 1 };
  }
  return { message: String(err), status: 1 };
}
