/**
 * The event log: hash chain, tamper detection down to any single byte,
 * torn-line tolerance, permissions, and masking of secrets in every byte.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EventLog } from "../../runtime/event_log.ts";
import { EventLogError, parseEventLog, readEventLog } from "../../runtime/log_reader.ts";
import { Masker } from "../../runtime/masker.ts";
import { canonicalJson, sha256Hex } from "../../runtime/canonical.ts";
import { eventsPath, runDir } from "../../runtime/paths.ts";
import { newRunId } from "../../runtime/run_id.ts";
import { RunSeal } from "../../runtime/seal.ts";
import { runBuild } from "../../runtime/run_build.ts";
import { fakePlugins, fakeTemplate, SENTINEL } from "./support/fakes.ts";
import { allBytes } from "./support/helpers.ts";
import { kilnComponents } from "../../components.ts";

async function smallLog(home: string, n = 6): Promise<{ runId: string; file: string }> {
  const runId = newRunId();
  const log = await EventLog.create(runId, home, new Masker());
  log.append({
    type: "RunStarted",
    data: { template: "t.json", note: 'ünïcødé ✓ "q"', list: [1, "two", { x: null }] },
  });
  for (let i = 1; i < n; i++) {
    log.append({ build: "b", step: `s${i}`, type: "StepSucceeded", data: { output: { i } } });
  }
  log.close();
  return { runId, file: eventsPath(runId, home) };
}

Deno.test("records chain by SHA-256 over canonical JSON including prev", async () => {
  const home = await Deno.makeTempDir();
  try {
    const { file } = await smallLog(home);
    const { records, torn } = await readEventLog(file);
    assert.equal(torn, undefined);
    assert.equal(records.length, 6);
    let prev = "";
    for (const [i, r] of records.entries()) {
      assert.equal(r.seq, i + 1);
      assert.equal(r.prev, prev);
      const { hash, mac: _mac, ...body } = r;
      assert.equal(hash, sha256Hex(canonicalJson(body)));
      prev = hash;
    }
    assert.match(records[0].run, /^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("editing any byte of any record is refused, naming its line", async () => {
  const home = await Deno.makeTempDir();
  try {
    const { runId, file } = await smallLog(home, 4);
    const bytes = await Deno.readFile(file);
    const seal = RunSeal.load(runId, runDir(runId, home))!;
    const macOf = (hash: string) => seal.recordMac(hash);
    for (let at = 0; at < bytes.length; at++) {
      const edited = bytes.slice();
      edited[at] = edited[at] === 0x30 ? 0x31 : 0x30; // '0' <-> '1' or anything -> '0'
      const line = bytes.subarray(0, at).filter((b) => b === 0x0a).length + 1;
      assert.throws(
        () => parseEventLog(edited, file, runId, macOf),
        (err: unknown) => err instanceof EventLogError && err.line === line,
        `byte ${at} (line ${line}) edited but not refused`,
      );
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("gaps, reordering and junk mid-file are refused with the line number", async () => {
  const home = await Deno.makeTempDir();
  try {
    const { file } = await smallLog(home, 5);
    const lines = (await Deno.readTextFile(file)).trimEnd().split("\n");
    const check = (ls: string[], line: number, pattern: RegExp) =>
      assert.throws(
        () => parseEventLog(new TextEncoder().encode(ls.join("\n") + "\n"), file),
        (err: unknown) =>
          err instanceof EventLogError && err.line === line && pattern.test(err.message) &&
          err.message.startsWith(`${file}:${line}: `),
      );
    check([lines[0], lines[2], lines[3]], 2, /sequence gap/);
    check([lines[0], lines[1], "{not json", lines[3]], 3, /not a JSON record/);
    check([lines[0], "", lines[1]], 2, /empty line/);
    check([lines[1], lines[0]], 1, /sequence gap/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("a torn last line is tolerated, reported, and cut away by the next writer", async () => {
  const home = await Deno.makeTempDir();
  try {
    const { runId, file } = await smallLog(home, 2);
    // A crash in the middle of appending record 3: a prefix of it, after the seal.
    const lines = (await Deno.readTextFile(file)).trimEnd().split("\n");
    const last = JSON.parse(lines[1]);
    const body = { ...last, seq: 3, type: "Ui", data: { message: "x" }, prev: last.hash };
    delete body.hash;
    const third = canonicalJson({ ...body, hash: sha256Hex(canonicalJson(body)) }) + "\n";
    const cut = third.length - 17;
    await Deno.writeTextFile(file, third.slice(0, cut), { append: true });
    const { records, torn } = await readEventLog(file);
    assert.equal(records.length, 2);
    assert.deepEqual(torn, { line: 3, bytes: cut });
    const { log, contents } = await EventLog.open(runId, home, new Masker());
    assert.equal(contents.torn?.line, 3);
    log.append({ type: "RunResumed", data: { from: 2 } });
    log.close();
    const after = await readEventLog(file);
    assert.equal(after.torn, undefined);
    assert.deepEqual(after.records.map((r) => r.seq), [1, 2, 3]);
    assert.equal(after.records[2].type, "RunResumed");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("run dir is 0700, log and secrets 0600; the secret never reaches any byte", async () => {
  const root = await Deno.makeTempDir();
  const home = join(root, "home");
  let printed = "";
  try {
    const prepared = fakeTemplate({ root, failFlag: join(root, "counter.txt") });
    const masker = new Masker(prepared.secrets);
    assert.equal(masker.maskText(`a${SENTINEL}b`), "a<sensitive>b");
    const r = await runBuild(prepared, {
      home,
      components: kilnComponents,
      plugins: fakePlugins,
      args: ["build", "-var", `secret=${SENTINEL}`],
      inputs: { vars: [{ kind: "var", name: "secret", value: SENTINEL }] },
      output: (t) => printed += t,
      onError: "abort",
    });
    assert.equal(r.status, "failed");
    const dir = runDir(r.runId, home);
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(join(dir, "events.jsonl"))).mode! & 0o777, 0o600);
    // A failed run keeps its inputs for --resume, 0600 in a 0700 directory.
    assert.equal((await Deno.stat(join(dir, "secrets"))).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(join(dir, "secrets", "inputs.json"))).mode! & 0o777, 0o600);
    const logText = await Deno.readTextFile(join(dir, "events.jsonl"));
    assert.ok(logText.includes("counting p0 with <sensitive>"));
    // State refers to the secret (resume restores it); it is never in clear.
    assert.ok(logText.includes("secret=<sensitive:0>"));
    assert.ok(!logText.includes(SENTINEL));
    assert.ok(!printed.includes(SENTINEL) && printed.includes("<sensitive>"));
    // Only the run's secrets (0600: the kept inputs, the state-secrets table) hold it.
    let withoutSecrets = await allBytes(home);
    for (const name of ["inputs.json", "state-secrets.json"]) {
      const kept = await Deno.readTextFile(join(dir, "secrets", name));
      assert.ok(kept.includes(SENTINEL), `${name} holds what resume needs`);
      assert.equal((await Deno.stat(join(dir, "secrets", name))).mode! & 0o777, 0o600);
      withoutSecrets = withoutSecrets.replace(kept, "");
    }
    assert.ok(!withoutSecrets.includes(SENTINEL));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a large log detects tampering at the right line", async () => {
  const home = await Deno.makeTempDir();
  try {
    const runId = newRunId();
    const log = await EventLog.create(runId, home, new Masker());
    const pad = "x".repeat(200);
    for (let i = 0; i < 16_000; i++) {
      log.append({ build: "b", type: "Ui", data: { level: "message", message: `${i} ${pad}` } });
    }
    log.close();
    const file = eventsPath(runId, home);
    const bytes = await Deno.readFile(file);
    assert.ok(bytes.length > 4 * 1024 * 1024);
    assert.equal((await readEventLog(file)).records.length, 16_000);
    const lineStart = (n: number) => {
      let at = 0;
      for (let i = 1; i < n; i++) at = bytes.indexOf(0x0a, at) + 1;
      return at;
    };
    for (const [line, offset] of [[1, 30], [9_000, 60], [9_000, 150], [16_000, 5]]) {
      const edited = bytes.slice();
      const at = lineStart(line) + offset;
      edited[at] = edited[at] === 0x78 ? 0x79 : 0x78;
      await Deno.writeFile(file, edited);
      await assert.rejects(
        readEventLog(file),
        (err: unknown) => err instanceof EventLogError && err.line === line,
        `edit at line ${line}+${offset}`,
      );
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
