/**
 * End to end with the real components: `kiln build` on real templates
 * (null + shell-local, file + post-processor chains), compared with what
 * Packer 1.6.6 printed and left on disk for the same templates (fixtures),
 * then SIGKILL at event boundaries + `--resume`, and a real SIGINT.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readEventLog } from "../../runtime/log_reader.ts";
import { foldRun } from "../../runtime/fold.ts";
import { CLI_PATH, runKiln } from "../support/kiln_cli.ts";
import { exists } from "../../runtime/fs.ts";

const fixtures = new URL("./fixtures/", import.meta.url).pathname;
const ready = ["builders/null.ts", "builders/file.ts", "provisioners/shell_local.ts"].every((f) => {
  try {
    Deno.statSync(new URL(`../../${f}`, import.meta.url));
    return true;
  } catch {
    return false;
  }
});

function kiln(dir: string, args: string[], env: Record<string, string> = {}) {
  return runKiln(args, { cwd: dir, home: join(dir, ".kiln"), env });
}

async function workdir(template: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "kiln-e2e-" });
  await Deno.copyFile(join(fixtures, template), join(dir, template));
  return dir;
}

/** kiln's output normalised like the Packer fixtures (and without kiln's closing run banner). */
function normalise(stdout: string): string[] {
  const text = stdout.slice(0, stdout.lastIndexOf("\n==> Run ")).trimEnd();
  return text.split("\n")
    .map((l) =>
      l.replace(/\/tmp\/[^\s]*packer-shell[^\s]*/, "<script>")
        .replace(/after [0-9][^.:]*([.:])/, "after <duration>$1")
        .replace(/Wait completed after .*/, "Wait completed after <duration>")
    );
}

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for await (const e of Deno.readDir(d)) {
      if (e.name === ".kiln") continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(join(d, e.name), r);
      else out.push(r);
    }
  };
  await walk(dir, "");
  return out.sort();
}

async function runIdOf(dir: string): Promise<string> {
  const ids: string[] = [];
  for await (const e of Deno.readDir(join(dir, ".kiln", "runs"))) ids.push(e.name);
  assert.equal(ids.length, 1);
  return ids[0];
}

Deno.test({
  name: "null + shell-local: same output and effects as Packer 1.6.6",
  ignore: !ready,
  async fn() {
    const dir = await workdir("null_shell_local.json");
    try {
      const out = await kiln(dir, ["build", "-color=false", "null_shell_local.json"]);
      assert.equal(out.code, 0, out.stdout + out.stderr);
      const packer = (await Deno.readTextFile(join(fixtures, "null_shell_local.packer.txt")))
        .trimEnd().split("\n");
      assert.deepEqual(normalise(out.stdout).sort(), packer.sort());
      assert.ok(!out.stdout.includes("s3cr3t-value"));
      const counter = (await Deno.readTextFile(join(dir, "counter.txt"))).trimEnd().split("\n");
      assert.deepEqual(counter.sort(), [
        "first null",
        "first second",
        "second null",
        "second second",
      ]);
      const log = await Deno.readTextFile(
        join(dir, ".kiln", "runs", await runIdOf(dir), "events.jsonl"),
      );
      assert.ok(!log.includes("s3cr3t-value"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "file + compress/checksum/manifest chains: same artifacts and files as Packer 1.6.6",
  ignore: !ready,
  async fn() {
    const dir = await workdir("file_chain.json");
    try {
      const out = await kiln(dir, ["build", "-color=false", "file_chain.json"]);
      assert.equal(out.code, 0, out.stdout + out.stderr);
      const packer = (await Deno.readTextFile(join(fixtures, "file_chain.packer.txt"))).trimEnd()
        .split("\n");
      const ours = normalise(out.stdout);
      // Post-processors word their own progress; the build's frame and artifacts must match.
      const frame = (ls: string[]) => ls.filter((l) => !l.startsWith("==> f (compress)"));
      assert.deepEqual(frame(ours), frame(packer));
      const expected = (await Deno.readTextFile(join(fixtures, "file_chain.packer-files.txt")))
        .trimEnd().split("\n");
      assert.deepEqual((await files(dir)).filter((f) => f !== "file_chain.json"), expected);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Files beside the template with their contents (run ids and UUIDs blanked). */
async function world(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await files(dir)) {
    const text = await Deno.readTextFile(join(dir, f)).catch(() => "<binary>");
    out[f] = f.endsWith(".tar.gz") ? "<archive>" : text.replace(/"[0-9a-f-]{36}"/g, '"<uuid>"')
      .replace(/\d{8}T\d{6}Z-[0-9a-f]{6}/g, "<run-id>");
  }
  return out;
}

const crashCases: { name: string; template: Record<string, unknown> }[] = [
  {
    name: "null + shell-local",
    template: {
      builders: [{ type: "null", communicator: "none" }],
      provisioners: [
        { type: "shell-local", inline: ["echo one >> counter.txt"] },
        { type: "shell-local", inline: ["echo two >> counter.txt"] },
      ],
    },
  },
  {
    name: "file + post-processor chains",
    template: JSON.parse(Deno.readTextFileSync(join(fixtures, "file_chain.json"))),
  },
];

for (const { name, template } of crashCases) {
  Deno.test({
    name: `${name}: SIGKILL after every event, then \`build --resume\`: same result, no re-run`,
    ignore: !ready,
    async fn() {
      const ref = await Deno.makeTempDir({ prefix: "kiln-e2e-ref-" });
      let expected: Record<string, string>;
      let count: number;
      try {
        await Deno.writeTextFile(join(ref, "t.json"), JSON.stringify(template));
        const first = await kiln(ref, ["build", "t.json"]);
        assert.equal(first.code, 0, first.stdout + first.stderr);
        expected = await world(ref);
        count = (await readEventLog(join(ref, ".kiln", "runs", await runIdOf(ref), "events.jsonl")))
          .records.length;
      } finally {
        await Deno.remove(ref, { recursive: true });
      }
      for (let k = 1; k < count; k++) {
        const dir = await Deno.makeTempDir({ prefix: `kiln-e2e-${k}-` });
        try {
          await Deno.writeTextFile(join(dir, "t.json"), JSON.stringify(template));
          const killed = await kiln(dir, ["build", "t.json"], { KILN_CRASH_AT_SEQ: String(k) });
          assert.equal(killed.signal, "SIGKILL", `not killed at ${k}`);
          const id = await runIdOf(dir);
          const resumed = await kiln(dir, ["build", "--resume", id]);
          assert.equal(resumed.code, 0, `resume after ${k}: ${resumed.stdout}${resumed.stderr}`);
          assert.deepEqual(await world(dir), expected, `after a crash at event ${k}`);
          const log = join(dir, ".kiln", "runs", id, "events.jsonl");
          assert.equal(foldRun((await readEventLog(log)).records).status, "succeeded");
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      }
    },
  });
}

Deno.test({
  name: "a real SIGINT to `kiln build` stops the provisioner, logs the cancel, exits non-zero",
  ignore: !ready,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kiln-e2e-int-" });
    await Deno.writeTextFile(
      join(dir, "t.json"),
      JSON.stringify({
        builders: [{ type: "null", communicator: "none" }],
        provisioners: [{
          type: "shell-local",
          inline: ["touch started", "sleep 30", "touch finished"],
        }],
      }),
    );
    const proc = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI_PATH, "build", "t.json"],
      cwd: dir,
      env: { KILN_HOME: join(dir, ".kiln"), NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      const until = Date.now() + 20_000;
      while (!(await exists(join(dir, "started")))) {
        assert.ok(Date.now() < until, "provisioner never started");
        await new Promise((r) => setTimeout(r, 25));
      }
      proc.kill("SIGINT");
      const out = await proc.output();
      assert.notEqual(out.code, 0);
      const state = foldRun(
        (await readEventLog(join(dir, ".kiln", "runs", await runIdOf(dir), "events.jsonl")))
          .records,
      );
      assert.equal(state.status, "cancelled");
      assert.equal(state.builds.null.status, "cancelled");
      assert.equal(await exists(join(dir, "finished")), false);
    } finally {
      try {
        proc.kill("SIGKILL");
      } catch { /* exited */ }
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "file build killed after every event, then `kiln cleanup`: nothing left in the ledger",
  ignore: !ready,
  async fn() {
    const template = await Deno.readTextFile(join(fixtures, "file_chain.json"));
    const ref = await Deno.makeTempDir({ prefix: "kiln-e2e-cref-" });
    let count: number;
    try {
      await Deno.writeTextFile(join(ref, "t.json"), template);
      assert.equal((await kiln(ref, ["build", "t.json"])).code, 0);
      count = (await readEventLog(join(ref, ".kiln", "runs", await runIdOf(ref), "events.jsonl")))
        .records.length;
    } finally {
      await Deno.remove(ref, { recursive: true });
    }
    for (let k = 1; k < count; k++) {
      const dir = await Deno.makeTempDir({ prefix: `kiln-e2e-c${k}-` });
      try {
        await Deno.writeTextFile(join(dir, "t.json"), template);
        const killed = await kiln(dir, ["build", "t.json"], { KILN_CRASH_AT_SEQ: String(k) });
        assert.equal(killed.signal, "SIGKILL", `not killed at ${k}`);
        const id = await runIdOf(dir);
        const cleaned = await kiln(dir, ["cleanup", id, "--json"]);
        assert.equal(cleaned.code, 0, cleaned.stdout + cleaned.stderr);
        const state = foldRun(
          (await readEventLog(join(dir, ".kiln", "runs", id, "events.jsonl"))).records,
        );
        const b = state.builds.f;
        const live = b.resources.filter((e) => !e.deletedAt);
        if (b.status === "succeeded") continue; // its output file is the result, kept
        assert.deepEqual(live, [], `ledger not empty after a crash at ${k}`);
        assert.equal(
          await exists(join(dir, "out", "a.txt")),
          false,
          `out/a.txt left after a crash at ${k}`,
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  },
});
