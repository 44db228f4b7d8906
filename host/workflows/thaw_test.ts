import assert from "node:assert/strict";
import { type PackState, surveyPacks } from "../cold/pack_survey.ts";
import { layout } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import type { Storage } from "../storage/storage.ts";
import { coldSampleRepo, finishColdRestores } from "../../test/helpers.ts";
import { thawPacks, TierNotOffered } from "./thaw.ts";

/** The cold sample repository, its packs' survey, and its store counting restore requests. */
async function archivedPacks() {
  const made = await coldSampleRepo();
  const repo: Repository = made.repo;
  await repo.loadIndex();
  const names = [...repo.index.packs()].map((p) => layout.pack(p.id));
  const requested: string[] = [];
  const storage = new Proxy(repo.storage, {
    get(target, key) {
      if (key === "requestRestore") {
        return (name: string, options: Parameters<Storage["requestRestore"]>[1]) => {
          requested.push(name);
          return target.requestRestore(name, options);
        };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const survey = () => surveyPacks(repo.storage, names);
  return { ...made, storage, requested, survey, states: await survey() };
}

Deno.test("thawPacks() without wait requests each archived pack once and says waiting", async () => {
  const { repo, storage, requested, survey, states } = await archivedPacks();
  try {
    assert.ok(states.every((s) => s.availability.state === "archived"));
    const told: number[] = [];
    const outcome = await thawPacks(storage, states, {
      tier: "bulk",
      days: 2,
      onRequested: (sent) => told.push(sent),
    });
    assert.equal(outcome.status, "waiting");
    assert.equal(outcome.status === "waiting" && outcome.sent, states.length);
    assert.deepEqual(told, [states.length]);
    assert.deepEqual(requested.sort(), states.map((s) => s.name).sort());

    // Run again while they are restored: nothing is asked twice.
    const again = await thawPacks(storage, await survey(), { tier: "bulk", days: 2 });
    assert.equal(again.status === "waiting" && again.sent, 0);
    assert.equal(requested.length, states.length);
  } finally {
    await repo.storage.close();
  }
});

Deno.test("thawPacks() with wait surveys through the injected sleep until every pack is readable", async () => {
  const { dir, repo, storage, states } = await archivedPacks();
  try {
    const surveys: PackState[][] = [];
    let slept = 0;
    const outcome = await thawPacks(storage, states, {
      tier: "standard",
      days: 1,
      wait: {
        intervalSeconds: 900,
        onSurvey: (s) => surveys.push(s),
        sleep: (ms) => {
          assert.equal(ms, 900_000);
          slept++;
          finishColdRestores(dir);
          return Promise.resolve();
        },
      },
    });
    assert.equal(outcome.status, "readable");
    assert.equal(slept, 1);
    assert.equal(surveys.length, 2, "one survey while restoring, one once readable");
    assert.ok(outcome.states.every((s) => s.availability.state !== "archived"));
  } finally {
    await repo.storage.close();
  }
});

Deno.test("thawPacks() refuses a tier the packs' class does not offer before it requests any", async () => {
  const { repo, storage, requested, states } = await archivedPacks();
  try {
    await assert.rejects(
      thawPacks(storage, states, { tier: "expedited", days: 1 }),
      (err: unknown) =>
        err instanceof TierNotOffered && err.storageClass === "DEEP_ARCHIVE" &&
        [...err.offered].sort().join(",") === "bulk,standard",
    );
    assert.deepEqual(requested, []);
  } finally {
    await repo.storage.close();
  }
});

Deno.test("thawPacks() of readable packs requests nothing and does not wait", async () => {
  const { dir, repo, storage, requested, survey, states } = await archivedPacks();
  try {
    await thawPacks(repo.storage, states, { tier: "bulk", days: 1 });
    finishColdRestores(dir);
    const readable = await survey();
    const outcome = await thawPacks(storage, readable, {
      tier: "expedited", // not checked: there is nothing to restore
      days: 1,
      wait: { intervalSeconds: 1, sleep: () => Promise.reject(new Error("waited")) },
    });
    assert.deepEqual(outcome, { status: "readable", states: readable });
    assert.deepEqual(requested, []);
  } finally {
    await repo.storage.close();
  }
});
