/**
 * Turns an error into one line the user can act on, and an exit status. Never a stack trace
 * for a user mistake (set PERMAFROST_DEBUG=1 to see one).
 *
 * @module
 */

import { layout } from "../repository/layout.ts";
import { InvalidRequest } from "../workflows/invalid_request.ts";
import { UsageError } from "./context.ts";

const hints: Record<string, string> = {
  // The messages of ForeignKey (a key file or key object of another repository) and
  // NoUsableKey (every key object damaged) name the object and what to do; WrongPassphrase
  // gets the passphrase's source (`passphraseTried`).
  ForeignKey: "",
  NoUsableKey: "",
  ConfigMissing: "",
  NotARepository: "create one with `permafrost init`, or check --repo / PERMAFROST_REPO",
  KeyCannotRead: "",
  IntegrityError: "run `permafrost check --read-data` to list every damaged pack",
  CapabilityRefused: "",
  NeedsRestore: "it is in cold storage: `permafrost restore` requests it and waits, or resumes",
};

const { key, pack, meta } = layout.prefixes;

/**
 * The role a request that the store refused (`PermissionDenied`, e.g. S3's AccessDenied)
 * needs, by the refused request, which the S3 plugin names first: `PUT of object "config" was
 * refused (…)` (plugins/storage/s3/s3_errors.ts). The command had the right key, but the
 * store's credentials are another role's: say whose it needs, and how to pick them.
 */
const refusals: [RegExp, string][] = [
  [
    new RegExp(`^PUT of object "(${layout.config()}|${key}[^"]*)" was refused`),
    "`init` and `key passwd` need the admin role's credentials",
  ],
  [/^DELETE of object "[^"]*" was refused/, "deleting needs the admin role's credentials"],
  [
    new RegExp(`^(GET|HEAD) of object "(${pack}|${meta})[^"]*" was refused`),
    "reading backed-up data needs the reader or admin role's credentials",
  ],
  [
    /^RESTORE of object "[^"]*" was refused/,
    "restoring from cold storage needs the reader or admin role's credentials",
  ],
];
const pickCredentials = "(AWS_PROFILE, or ?profile=NAME in the repository location)";

export function explain(err: unknown): { message: string; status: number } {
  if (err instanceof UsageError || err instanceof InvalidRequest) {
    return { message: err.message, status: 2 };
  }
  if (err instanceof Error) {
    if (err.name === "TypeError" && (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      return { message: err.message, status: 2 };
    }
    if (err.name === "PermissionDenied") {
      const role = refusals.find(([request]) => request.test(err.message))?.[1];
      if (role) return { message: `${err.message}; ${role} ${pickCredentials}`, status: 1 };
    }
    if (err.name === "WrongPassphrase") {
      return { message: `${err.message} (tried ${passphraseTried()})`, status: 1 };
    }
    const hint = hints[err.name];
    // A message that already says which `permafrost` command to run needs no generic hint.
    const actionable = /`permafrost [a-z]/.test(err.message);
    return { message: hint && !actionable ? `${err.message} (${hint})` : err.message, status: 1 };
  }
  return { message: String(err), status: 1 };
}

/**
 * Where the passphrase that was tried came from, in the order `Context.passphrase` looks:
 * `PERMAFROST_PASSWORD`, else the file `PERMAFROST_PASSWORD_FILE` names, else the prompt.
 */
function passphraseTried(): string {
  const env = (name: string) => Deno.env.get(name) || undefined;
  const file = env("PERMAFROST_PASSWORD_FILE");
  if (env("PERMAFROST_PASSWORD")) {
    return `the passphrase in PERMAFROST_PASSWORD${
      file ? `, which comes before PERMAFROST_PASSWORD_FILE "${file}"` : ""
    }`;
  }
  if (file) return `the passphrase in the file "${file}" (PERMAFROST_PASSWORD_FILE)`;
  return "the passphrase typed at the prompt";
}
