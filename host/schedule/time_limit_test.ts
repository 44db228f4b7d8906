import assert from "node:assert/strict";
import { parseTimeout, timeLimit } from "./time_limit.ts";

Deno.test("parseTimeout reads s, m, h and d, and refuses what it cannot run", () => {
  assert.equal(parseTimeout("90s"), 90_000);
  assert.equal(parseTimeout("1h30m"), 5_400_000);
  assert.equal(parseTimeout("12h"), 43_200_000);
  assert.throws(() => parseTimeout("12"), /timeout "12" is not a duration: use digits and units/);
  assert.throws(() => parseTimeout("0s"), /more than 0 and at most 20d/);
  assert.throws(() => parseTimeout("30d"), /more than 0 and at most 20d/);
});

/** A Deno subprocess that says "ready" once it runs `setup`, then waits forever. */
async function waiting(setup: string): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", `${setup}; console.log("ready"); setInterval(() => {}, 1000);`],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let said = "";
  while (!said.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) break;
    said += value;
  }
  reader.releaseLock();
  return child;
}

Deno.test("a subprocess past its time limit gets SIGTERM, and SIGKILL when it ignores that", async () => {
  const obeys = await waiting("");
  const polite = timeLimit(obeys, 1, 60_000);
  const ended = await obeys.status;
  polite.clear();
  await obeys.stdout.cancel().catch(() => {});
  assert.equal(ended.signal, "SIGTERM");
  assert.equal(polite.stoppedWith, "SIGTERM");

  const deaf = await waiting('Deno.addSignalListener("SIGTERM", () => {})');
  const firm = timeLimit(deaf, 1, 1);
  const killed = await deaf.status;
  firm.clear();
  await deaf.stdout.cancel().catch(() => {});
  assert.equal(killed.signal, "SIGKILL");
  assert.equal(firm.stoppedWith, "SIGKILL");
});

Deno.test("a subprocess that ends within its time limit gets no signal", async () => {
  const child = new Deno.Command(Deno.execPath(), { args: ["eval", ""], stdout: "null" }).spawn();
  const limit = timeLimit(child, 60_000, 60_000);
  const status = await child.status;
  limit.clear();
  assert.equal(status.code, 0);
  assert.equal(limit.stoppedWith, undefined);
});
