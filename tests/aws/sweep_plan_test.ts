/**
 * The sweep's rules one by one, on made-up inventories (the end-to-end
 * cases are in sweep_test.ts): what a sealed ledger proves about an AMI,
 * what a corrupt run protects, which snapshots and volumes depend on what,
 * and how a folded run becomes the facts the sweep reads.
 */
import assert from "node:assert/strict";
import { planSweep, type RunBook, type RunFacts } from "../../steps/aws/sweep_plan.ts";
import type { RegionInventory, SweptResource } from "../../steps/aws/sweep_inventory.ts";
import { factsOf } from "../../cli/sweep_runs.ts";
import { printable } from "../../cli/sweep_report.ts";
import { foldRun } from "../../runtime/fold.ts";
import type { EventRecord } from "../../runtime/events.ts";

const RUN = "20261207T120000Z-0a0b0c";

function facts(over: Partial<RunFacts>): RunFacts {
  return { status: "failed", results: new Set(), recorded: new Set(), sealed: true, ...over };
}

function book(runs: Record<string, RunFacts>): RunBook {
  return { lookup: (id) => Promise.resolve(runs[id]) };
}

function res(kind: SweptResource["kind"], id: string, extra: Partial<SweptResource> = {}) {
  return { kind, id, region: "us-east-1", runTag: RUN, ...extra } as SweptResource;
}

function inventory(
  resources: SweptResource[],
  snapshotImages: Record<string, string[]> = {},
): RegionInventory {
  return {
    region: "us-east-1",
    resources,
    snapshotImages: new Map(Object.entries(snapshotImages)),
  };
}

async function verdicts(inv: RegionInventory, runs: Record<string, RunFacts>, include = false) {
  const plan = await planSweep(inv, book(runs), { includeUnrecordedImages: include });
  return Object.fromEntries(
    plan.groups.flatMap((g) => g.items).map((i) => [i.resource.id, i.action]),
  );
}

Deno.test("sweep plan: a failed run's AMI is an orphan only when its sealed ledger recorded it", async () => {
  const inv = inventory([res("image", "ami-1"), res("snapshot", "snap-1")], {
    "snap-1": ["ami-1"],
  });
  const recorded = new Set(["ami-1"]);
  assert.deepEqual(await verdicts(inv, { [RUN]: facts({ recorded }) }), {
    "ami-1": "delete",
    // Its AMI goes first, then nothing uses it.
    "snap-1": "delete",
  });
  assert.deepEqual(await verdicts(inv, { [RUN]: facts({ recorded, sealed: false }) }), {
    "ami-1": "keep",
    "snap-1": "keep",
  });
  // Not in the ledger: a tagged copy a user made of it, say.
  assert.deepEqual(await verdicts(inv, { [RUN]: facts({}) }), {
    "ami-1": "keep",
    "snap-1": "keep",
  });
  assert.deepEqual(await verdicts(inv, { [RUN]: facts({}) }, true), {
    "ami-1": "delete",
    "snap-1": "delete",
  });
});

Deno.test("sweep plan: results stay whatever the flags; so do the snapshots of any kept AMI", async () => {
  const inv = inventory(
    [res("image", "ami-1"), res("snapshot", "snap-1"), res("snapshot", "snap-2")],
    { "snap-1": ["ami-1"], "snap-2": ["ami-users-own"] },
  );
  const run = facts({
    status: "succeeded",
    results: new Set(["ami-1"]),
    recorded: new Set(["ami-1"]),
  });
  assert.deepEqual(await verdicts(inv, { [RUN]: run }, true), {
    "ami-1": "keep",
    "snap-1": "keep",
    "snap-2": "keep",
  });
});

Deno.test("sweep plan: running, interrupted and unreadable runs keep everything", async () => {
  const inv = inventory([res("instance", "i-1"), res("key-pair", "k")]);
  for (const status of ["running", "interrupted", "corrupt"] as const) {
    assert.deepEqual(await verdicts(inv, { [RUN]: facts({ status }) }), {
      "i-1": "keep",
      k: "keep",
    }, status);
  }
  const plan = await planSweep(inv, book({ [RUN]: facts({ status: "interrupted" }) }));
  assert.match(plan.groups[0].hint ?? "", new RegExp(`kiln cleanup ${RUN}`));
});

Deno.test("sweep plan: a volume stays with an instance the sweep keeps", async () => {
  const other = "20261207T120000Z-ffffff";
  const inv = inventory([
    res("volume", "vol-1", { attachedTo: "i-kept" }),
    res("volume", "vol-2", { attachedTo: "i-gone" }),
    res("instance", "i-gone"),
    res("instance", "i-kept", { runTag: other }),
  ]);
  assert.deepEqual(
    await verdicts(inv, { [RUN]: facts({}), [other]: facts({ status: "running" }) }),
    { "vol-1": "keep", "vol-2": "delete", "i-gone": "delete", "i-kept": "keep" },
  );
});

Deno.test("sweep plan: tag values that are not run ids are never looked up nor deleted", async () => {
  const looked: string[] = [];
  const inv = inventory([
    res("key-pair", "a", { runTag: "../../runs/x" }),
    res("key-pair", "b", { runTag: "" }),
    res("key-pair", "c", { runTag: `${RUN}\n` }),
  ]);
  const plan = await planSweep(inv, {
    lookup: (id) => {
      looked.push(id);
      return Promise.resolve(undefined);
    },
  }, { includeUnrecordedImages: true });
  assert.deepEqual(looked, []);
  assert.ok(plan.groups.every((g) => g.status === "invalid"));
  assert.ok(plan.groups.flatMap((g) => g.items).every((i) => i.action === "keep"));
  assert.equal(printable("a\u001b[2Jb\nc"), "a\\u001b[2Jb\\u000ac");
});

Deno.test("sweep facts: a succeeded build's live AMI and its artifacts are results; everything recorded is recorded", () => {
  let seq = 0;
  const ev = (type: string, build: string | null, data: Record<string, unknown>) =>
    ({
      seq: ++seq,
      ts: "2026-12-07T12:00:00Z",
      run: RUN,
      build,
      step: null,
      type,
      data,
    }) as unknown as EventRecord;
  const state = foldRun([
    ev("RunStarted", null, { builds: ["ok", "bad"] }),
    ev("ResourceCreated", "ok", { kind: "aws.key_pair", id: "k-ok", temporary: true }),
    ev("ResourceDeleted", "ok", { kind: "aws.key_pair", id: "k-ok" }),
    ev("ResourceCreated", "ok", { kind: "aws.ami", id: "ami-ok", region: "us-east-1" }),
    ev("BuildFinished", "ok", {
      status: "succeeded",
      artifacts: [{ builderId: "x", id: "eu-west-1:ami-copy", files: [], description: "" }],
    }),
    ev("ResourceCreated", "bad", { kind: "aws.ami", id: "ami-bad", region: "us-east-1" }),
    ev("BuildFinished", "bad", { status: "failed", error: "x" }),
    ev("RunFinished", null, { status: "failed" }),
  ]);
  const got = factsOf(state, "failed", true);
  assert.deepEqual([...got.results].sort(), ["ami-copy", "ami-ok"]);
  assert.deepEqual([...got.recorded].sort(), ["ami-bad", "ami-ok", "k-ok"]);
});
