/**
 * A Packer user's muscle memory: help on every command, Packer's exit codes,
 * a quiet `validate`, `kiln build | head -1`, `-machine-readable` rows and
 * the PACKER_LOG debug log — each checked as a user sees it, in a process.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "../support/temp_dir.ts";
import { CLI_PATH, runKiln } from "../support/kiln_cli.ts";

const COMMANDS = [
  "build",
  "validate",
  "inspect",
  "fmt",
  "console",
  "runs",
  "replay",
  "cleanup",
  "hcl2_upgrade",
  "demo",
  "version",
];
const HELP_FLAGS = ["-h", "-help", "--help"];

Deno.test("-h, -help and --help print every command's usage and exit 0; unknown or no command exits 127", async () => {
  // One flag spelling per command (rotating), all at once: a process each is the user's view.
  const runs = COMMANDS.map((c, i) => runKiln([c, HELP_FLAGS[i % HELP_FLAGS.length]]));
  const [unknown, none] = [runKiln(["frobnicate"]), runKiln([])];
  for (const [i, out] of (await Promise.all(runs)).entries()) {
    const flag = HELP_FLAGS[i % HELP_FLAGS.length];
    assert.equal(out.code, 0, `kiln ${COMMANDS[i]} ${flag}: ${out.stdout}${out.stderr}`);
    assert.match(out.stdout, new RegExp(`^Usage: kiln ${COMMANDS[i]}\\b`), COMMANDS[i]);
  }
  const u = await unknown;
  assert.equal(u.code, 127);
  assert.match(u.stderr, /unknown command "frobnicate"/);
  assert.match(u.stderr, /Available commands are:/);
  const n = await none;
  assert.equal(n.code, 127);
  assert.match(n.stdout, /^Usage: kiln /);
});

Deno.test("validate is silent on success, as Packer 1.6.6; -syntax-only still says so", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "ok.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({ builders: [{ type: "null", communicator: "none" }] }),
    );
    const [full, syntax] = await Promise.all([
      runKiln(["validate", file], { cwd: dir }),
      runKiln(["validate", "-syntax-only", file], { cwd: dir }),
    ]);
    assert.deepEqual([full.code, full.stdout, full.stderr], [0, "", ""]);
    assert.equal(syntax.code, 0);
    assert.equal(syntax.stdout, "Syntax-only check passed. Everything looks okay.\n");
  });
});

Deno.test("kiln build | head -1: the reader leaving is not an error, and the build still finishes", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "t.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        builders: [{ type: "null", communicator: "none" }],
        provisioners: [{ type: "shell-local", inline: ["seq 1 3000", "sleep 0.3", "seq 1 3000"] }],
      }),
    );
    const home = join(dir, ".kiln");
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI_PATH, "build", file],
      cwd: dir,
      env: { KILN_HOME: home, NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // `head -1`: read until one line has come, then close the pipe.
    const reader = child.stdout.getReader();
    let seen = "";
    while (!seen.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    await reader.cancel();
    const stderrText = new Response(child.stderr).text();
    const status = await child.status;
    const stderr = await stderrText;
    assert.match(seen, /Running local shell script/);
    assert.doesNotMatch(stderr, /error|Error|\n\s+at /, stderr);
    assert.equal(status.code, 0, stderr);
    // The run is whole: its log ends with the run's finish.
    const [id] = [...Deno.readDirSync(join(home, "runs"))].map((e) => e.name);
    const lines = (await Deno.readTextFile(join(home, "runs", id, "events.jsonl"))).trim()
      .split("\n");
    const last = JSON.parse(lines.at(-1)!);
    assert.deepEqual([last.type, last.data.status], ["RunFinished", "succeeded"]);

    // A reader gone before the first byte (`kiln inspect t.json | true`), for the other writers.
    for (const args of [["inspect", file], ["replay", id], ["replay", "--json", id]]) {
      const early = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI_PATH, ...args],
        cwd: dir,
        env: { KILN_HOME: home, NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      await early.stdout.cancel();
      const result = await early.output();
      const err = new TextDecoder().decode(result.stderr);
      assert.doesNotMatch(err, /Broken pipe|error|\n\s+at /, `kiln ${args.join(" ")}: ${err}`);
      assert.equal(result.code, 0, `kiln ${args.join(" ")}: ${err}`);
    }
  });
});

Deno.test("-machine-readable rows as Packer's, with kiln's run id; PACKER_LOG_PATH holds a masked debug log", async () => {
  await withTempDir(async (dir) => {
    const secret = "hunter2-very-secret";
    const file = join(dir, "t.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        variables: { pw: "" },
        "sensitive-variables": ["pw"],
        builders: [{ type: "null", communicator: "none" }],
        provisioners: [{ type: "shell-local", inline: ["echo 'a,b'", "echo pw={{user `pw`}}"] }],
      }),
    );
    const home = join(dir, ".kiln");
    const logFile = join(dir, "debug.log");
    const args = ["build", "-machine-readable", "-var", `pw=${secret}`, file];
    const [out, packer] = await Promise.all([
      runKiln(args, { cwd: dir, home, env: { PACKER_LOG: "1", PACKER_LOG_PATH: logFile } }),
      new Deno.Command("packer", {
        args,
        cwd: dir,
        env: { CHECKPOINT_DISABLE: "1", HOME: dir },
        stdin: "null",
      }).output(),
    ]);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const rows = out.stdout.trimEnd().split("\n");
    // Row for row Packer 1.6.6's kinds (target, type, first field), after kiln's run id row.
    const kinds = (lines: string[]) => lines.map((l) => l.split(",").slice(1, 4).join(","));
    const reference = new TextDecoder().decode(packer.stdout).trimEnd().split("\n");
    assert.equal(packer.code, 0, reference.join("\n"));
    assert.deepEqual(kinds(rows.slice(1)), kinds(reference));
    for (const row of rows) assert.match(row, /^\d{10},[^,]*,[a-z-]+(,.*)?$/, row);
    const [, , type, runId] = rows[0].split(",");
    assert.equal(type, "kiln-run-id");
    assert.ok(Deno.statSync(join(home, "runs", runId, "events.jsonl")).isFile);
    assert.ok(
      rows.some((r) => r.endsWith(",,ui,message,    null: a%!(PACKER_COMMA)b")),
      out.stdout,
    );
    // Packer lists an artifact's records right before its summary line.
    const end = rows.findIndex((r) => r.endsWith(",null,artifact,0,end"));
    assert.match(rows[end + 1], /,,ui,say,--> null: Did not export anything/);
    assert.equal(out.stderr, "", "the debug log went to the file, not stderr");
    assert.ok(!out.stdout.includes(secret));

    const log = await Deno.readTextFile(logFile);
    assert.equal(Deno.statSync(logFile).mode! & 0o777, 0o600);
    assert.ok(!log.includes(secret), "secret in the debug log");
    const lines = log.trimEnd().split("\n");
    for (const line of lines) {
      assert.match(line, /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{3} \[[A-Z]+\] [a-z ]+: /, line);
    }
    assert.match(log, /\[INFO\] kiln: kiln version: .* command: build/);
    assert.match(log, new RegExp(`RunStarted run=${runId} `));
    assert.match(log, /StepStarted build=null step=common\.connect/);
    assert.match(log, /StepSucceeded build=null step=common\.provision/);
    assert.ok(log.includes("[INFO] ui:     null: pw=<sensitive>"), log);
    assert.match(log, /RunFinished \{"status":"succeeded"\}/);

    // PACKER_LOG=0 (and PACKER_LOG_PATH alone) log nothing, as in Packer.
    const quiet = join(dir, "quiet.log");
    const off = await runKiln(["validate", file], {
      cwd: dir,
      env: { PACKER_LOG: "0", PACKER_LOG_PATH: quiet },
    });
    assert.equal(off.code, 0, off.stderr);
    assert.throws(() => Deno.statSync(quiet));
    // A log file that cannot be made is one clear line, before anything runs.
    const bad = await runKiln(["validate", file], {
      cwd: dir,
      env: { PACKER_LOG: "1", PACKER_LOG_PATH: join(dir, "missing", "x.log") },
    });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^kiln: PACKER_LOG_PATH .*missing\/x\.log: .+\n$/);
  });
});
