/**
 * The bucket as an attacker (write access, no team key) or an accident
 * leaves it: kiln reads nothing it cannot verify, says exactly what is
 * wrong, and runs no side effect. Bad settings get a clear error.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runIdOf, startStoreLab, type StoreLab, writeStoreTemplate } from "../support/store_lab.ts";

async function finishedRun(lab: StoreLab): Promise<string> {
  const template = await writeStoreTemplate(lab.dir, 0);
  const a = await lab.kiln("a", ["build", template], { KILN_CRASH_AFTER: "ProvisionerSucceeded" });
  assert.equal(a.signal, "SIGKILL");
  await Deno.remove(join(lab.dir, "first.done"));
  return runIdOf(a.stdout + a.stderr);
}

function edit(lab: StoreLab, key: string, change: (text: string) => string): void {
  const body = new TextDecoder().decode(lab.objects().get(key)!);
  lab.s3.store.put(lab.bucket, key, new TextEncoder().encode(change(body)), "text/plain");
}

/** From a fresh runner: every reading and acting command refuses, and nothing runs. */
async function refusedEverywhere(
  lab: StoreLab,
  id: string,
  pattern: RegExp,
  runner = "fresh",
  commands = ["replay", "build --resume", "cleanup"],
) {
  for (const args of commands.map((c) => [...c.split(" "), id])) {
    const out = await lab.kiln(`${runner}-${args[0]}`, args);
    assert.notEqual(out.code, 0, `${args.join(" ")} accepted it:\n${out.stdout}`);
    assert.match(out.stdout + out.stderr, pattern, `${args.join(" ")}: ${out.stdout}${out.stderr}`);
    assert.doesNotMatch(out.stderr, /^\s+at /m, "no stack trace");
  }
  assert.ok(!existsSync(join(lab.dir, "second.done")), "no provisioner ran");
}

Deno.test("an edited record in a segment is refused by every runner, naming the record", async () => {
  const lab = await startStoreLab();
  try {
    const id = await finishedRun(lab);
    const first = lab.keys(id, "log/")[0];
    edit(lab, first, (t) => t.replace('"type":"RunStarted"', '"type":"RunStarteX"'));
    await refusedEverywhere(lab, id, /events\.jsonl:1: /);
  } finally {
    await lab.close();
  }
});

/** A run that failed and ended (its seal in the store covers its whole log). */
async function failedRun(lab: StoreLab): Promise<string> {
  const file = join(lab.dir, "failing.json");
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      builders: [{ type: "null", communicator: "none" }],
      provisioners: [{ type: "shell-local", inline: ["exit 3"] }],
    }),
  );
  const a = await lab.kiln("a", ["build", file]);
  assert.equal(a.code, 1, a.stderr);
  return runIdOf(a.stdout + a.stderr);
}

Deno.test("a deleted last segment (a cut log) and a stray object in the log are refused", async () => {
  const lab = await startStoreLab();
  try {
    // The store's seal follows each durable append, so an ended run's seal covers its whole log.
    const id = await failedRun(lab);
    const segments = lab.keys(id, "log/");
    const objects = lab.s3.store.buckets.get(lab.bucket)!.objects;
    objects.delete(segments.at(-1)!);
    // Readers of every record see the cut. A resume folds from the run's last
    // snapshot, whose MAC vouches for every event up to it: it needs no more.
    await refusedEverywhere(lab, id, /cut/, "cut", ["replay", "cleanup"]);
    // Without the snapshots a resume reads the log from the start, and sees the cut too.
    for (const key of lab.keys(id, "snapshots/")) objects.delete(key);
    await refusedEverywhere(lab, id, /cut/, "cut-all");
    lab.s3.store.put(
      lab.bucket,
      `${lab.prefix}${id}/log/zz-extra`,
      new TextEncoder().encode("{}\n"),
      "text/plain",
    );
    await refusedEverywhere(lab, id, /stray object/, "stray");
  } finally {
    await lab.close();
  }
});

Deno.test("a seal, key or secret that does not verify is refused; so is another team's key", async () => {
  const lab = await startStoreLab();
  try {
    const id = await finishedRun(lab);
    const sealKey = `${lab.prefix}${id}/seal.json`;
    const seal = lab.objects().get(sealKey)!;
    edit(lab, sealKey, (t) => t.replace(/"mac":"[0-9a-f]/, '"mac":"x'));
    await refusedEverywhere(lab, id, /seal in the store does not verify/, "seal");
    lab.s3.store.put(lab.bucket, sealKey, seal, "application/json");

    const secrets = lab.keys(id, "secrets/");
    assert.ok(secrets.length > 0);
    const secret = lab.objects().get(secrets[0])!;
    const flipped = secret.slice();
    flipped[flipped.length - 1] ^= 1;
    lab.s3.store.put(lab.bucket, secrets[0], flipped, "application/octet-stream");
    const resume = await lab.kiln("secret", ["build", "--resume", id]);
    assert.notEqual(resume.code, 0);
    assert.match(resume.stderr, /does not decrypt/);
    lab.s3.store.put(lab.bucket, secrets[0], secret, "application/octet-stream");

    const other = join(lab.dir, "other.key");
    await Deno.writeFile(other, crypto.getRandomValues(new Uint8Array(32)), { mode: 0o600 });
    const foreign = await lab.kiln("other", ["replay", id], { KILN_STORE_KEY_FILE: other });
    assert.notEqual(foreign.code, 0);
    assert.match(foreign.stderr, /stored with another team key/);

    // Still whole after all that: the untouched run resumes.
    const ok = await lab.kiln("b", ["build", "--resume", id]);
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  } finally {
    await lab.close();
  }
});

Deno.test("bad store settings get a clear error naming what to fix", async () => {
  const lab = await startStoreLab();
  try {
    const cases: [Record<string, string>, RegExp][] = [
      [{ KILN_STORE: "https://bucket/x" }, /expected s3:\/\/bucket or s3:\/\/bucket\/prefix/],
      [{ KILN_STORE: "s3://Bad_Bucket" }, /not a valid S3 bucket name/],
      [{ KILN_STORE_KEY_FILE: "" }, /needs KILN_STORE_KMS_KEY_ID or KILN_STORE_KEY_FILE/],
      [{ KILN_STORE_KEY_FILE: join(lab.dir, "missing.key") }, /cannot read it/],
      [{ KILN_STORE_LEASE_SECONDS: "soon" }, /expected a positive number of seconds/],
    ];
    for (const [env, pattern] of cases) {
      const out = await lab.kiln("x", ["runs"], env);
      assert.equal(out.code, 1, JSON.stringify(env));
      assert.match(out.stderr, pattern);
    }
    const open = join(lab.dir, "open.key");
    await Deno.writeFile(open, crypto.getRandomValues(new Uint8Array(32)), { mode: 0o644 });
    await Deno.chmod(open, 0o644);
    const loose = await lab.kiln("x", ["runs"], { KILN_STORE_KEY_FILE: open });
    assert.equal(loose.code, 1);
    assert.match(loose.stderr, /readable by others .* chmod 600/);
    const short = join(lab.dir, "short.key");
    await Deno.writeTextFile(short, "hunter2\n", { mode: 0o600 });
    const weak = await lab.kiln("x", ["runs"], { KILN_STORE_KEY_FILE: short });
    assert.match(weak.stderr, /expected 32 random bytes/);
    // --store on the command line is the same as KILN_STORE.
    const flag = await lab.kiln("x", ["runs", "--store", "s3://Nope_"], { KILN_STORE: "" });
    assert.match(flag.stderr, /not a valid S3 bucket name/);
  } finally {
    await lab.close();
  }
});
