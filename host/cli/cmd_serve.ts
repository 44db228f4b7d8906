/**
 * `serve [--listen HOST:PORT] [--token TOKEN] [--region R]`: the local web view (cost
 * dashboard, snapshots, restore estimator, price table) and its JSON API, behind an access
 * token. Opens the repository once (passphrase or key file as every command), then serves
 * until interrupted. docs/cli/serve.txt.
 *
 * @module
 */

import { decodeKeyExport } from "../repository/keyfile.ts";
import { Repository } from "../repository/repository.ts";
import { openStorage } from "../storage/open.ts";
import { stopOnSignal } from "../storage/orderly_close.ts";
import { isLoopback, newToken, parseListen, serveRepository } from "../web/serve.ts";
import { type Context, repoOptions, UsageError } from "./context.ts";
import type { OptionTable } from "./options.ts";
import { regionOption } from "./pricing.ts";

export const serveOptions = {
  ...repoOptions,
  ...regionOption,
  listen: { type: "string" },
  token: { type: "string" },
} as const satisfies OptionTable;

const DEFAULT_LISTEN = "127.0.0.1:0";
const MIN_TOKEN_LENGTH = 16;

export async function cmdServe(ctx: Context): Promise<number> {
  if (ctx.positionals.length > 0) {
    throw new UsageError(`unexpected argument "${ctx.positionals[0]}"`);
  }
  const { hostname, port } = parseListen(ctx.string("listen") ?? DEFAULT_LISTEN);
  const token = ctx.string("token") ?? newToken();
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new UsageError(
      `--token must be at least ${MIN_TOKEN_LENGTH} characters without spaces ` +
        `(leave it out for a random one)`,
    );
  }
  const location = ctx.requireRepo();
  const keyFile = ctx.keyFile();
  const role = keyFile && decodeKeyExport(keyFile).keys.role === "ingest" ? "ingest" : "admin";
  if (role === "ingest") {
    throw new UsageError(
      "the web view reads the repository: use the passphrase, not an ingest key",
    );
  }
  const storage = await openStorage(location, role);
  let repo: Repository;
  try {
    repo = keyFile
      ? await Repository.open(storage, { keyFile })
      : await Repository.open(storage, { passphrase: await ctx.passphrase() });
  } catch (err) {
    await storage.close();
    throw err;
  }
  try {
    const server = await serveRepository(repo, {
      location,
      region: ctx.string("region"),
      token,
      hostname,
      port,
    });
    // SIGINT or SIGTERM stops serving, and the storage closes below: exit 0, not 130.
    const release = stopOnSignal(() => void server.shutdown());
    console.log(`permafrost serve: ${location}`);
    console.log(`listening on ${server.url}`);
    console.log(`access token: ${token}`);
    console.log(`open ${server.url}?token=${encodeURIComponent(token)}`);
    if (!isLoopback(hostname)) {
      console.error(
        `warning: listening on ${hostname}, reachable from other machines over plain HTTP; ` +
          `anyone who sees the token can read the repository's costs and snapshot list`,
      );
    }
    await server.finished;
    release();
    return 0;
  } finally {
    await storage.close();
  }
}
