/**
 * The run commands as a user runs them: `kiln runs`, `runs show`, `replay`,
 * `cleanup`, each with --json, and their one-line errors.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runBuild } from "../../runtime/run_build.ts";
import { eventsPath } from "../../runtime/paths.ts";
import { fakePlugins, fakeTemplate } from "./support/fakes.ts";
import { runKiln } from "../support/kiln_cli.ts";
import { kilnComponents } from "../../components.ts";

function kiln(home: string, ...args: string[]) {
  return runKiln(args, { home });
}

Deno.test("runs, runs show, replay and cleanup on real run logs", async () => {
  const root = await Deno.makeTempDir({ prefix: "kiln-cli-" });
  const home = join(root, "home");
  try {
    const ok = await runBuild(fakeTemplate({ root, builds: ["a"] }), {
      home,
      components: kilnComponents,
      plugins: fakePlugins,
      output: false,
    });
    const flag = join(root, "fail");
    await Deno.writeTextFile(flag, "");
    const failed = await runBuild(fakeTemplate({ root, builds: ["b"], failFlag: flag }), {
      home,
      components: kilnComponents,
      plugins: fakePlugins,
      output: false,
      onError: "abort",
    });

    const list = await kiln(home, "runs");
    assert.equal(list.code, 0);
    assert.match(list.stdout, /^RUN\s+STATUS\s+STARTED\s+DURATION\s+TEMPLATE$/m);
    assert.match(list.stdout, new RegExp(`^${ok.runId}\\s+succeeded\\s`, "m"));
    assert.match(list.stdout, new RegExp(`^${failed.runId}\\s+failed\\s`, "m"));
    const listJson = JSON.parse((await kiln(home, "runs", "--json")).stdout);
    assert.deepEqual(
      listJson.map((r: { id: string }) => r.id).sort(),
      [ok.runId, failed.runId].sort(),
    );

    const show = await kiln(home, "runs", "show", failed.runId);
    assert.equal(show.code, 0);
    assert.match(show.stdout, /Build 'b' \(fake\): failed/);
    assert.match(show.stdout, /failed\s+common\.provision/);
    assert.match(show.stdout, /live\s+fake\.file .*b-disk\.res/);
    const showJson = JSON.parse((await kiln(home, "runs", "show", failed.runId, "--json")).stdout);
    assert.equal(showJson.builds.b.status, "failed");

    const replay = await kiln(home, "replay", ok.runId);
    assert.equal(replay.code, 0);
    assert.match(replay.stdout, /==> a: Running post-processor: fake-copy/);
    assert.match(replay.stderr, /sealed log verified: \d+ events/);

    // The CLI knows only registered builders: the fake's resources stay, each failure named.
    const cleanup = await kiln(home, "cleanup", failed.runId, "--json");
    assert.equal(cleanup.code, 1);
    const result = JSON.parse(cleanup.stdout);
    assert.equal(result.failed.length, 2);
    assert.match(result.failed[0].error, /no handler knows how to delete a "fake\.file"/);

    // Tamper with one byte of record 3: replay shows what precedes and names the line.
    const file = eventsPath(ok.runId, home);
    const bytes = await Deno.readFile(file);
    const third = bytes.indexOf(0x0a, bytes.indexOf(0x0a) + 1) + 5;
    bytes[third] = bytes[third] === 0x61 ? 0x62 : 0x61;
    await Deno.writeFile(file, bytes);
    const broken = await kiln(home, "replay", ok.runId, "--json");
    assert.equal(broken.code, 1);
    const b = JSON.parse(broken.stdout);
    assert.equal(b.verified, false);
    assert.equal(b.records, 2);
    assert.equal(b.broken.line, 3);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("unknown or malformed run ids are one clear line", async () => {
  const home = await Deno.makeTempDir();
  try {
    for (
      const args of [["replay", "nope"], ["cleanup", "20260101T000000Z-000000"], [
        "runs",
        "show",
        "../x",
      ]]
    ) {
      const out = await kiln(home, ...args);
      assert.equal(out.code, 1);
      assert.equal(out.stderr.trim().split("\n").length, 1, out.stderr);
      assert.match(out.stderr, /^kiln (replay|cleanup|runs): /);
    }
    const none = await kiln(home, "runs");
    assert.match(none.stdout, /No runs under/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test({
  name: "`build --resume` of a run whose log was edited is refused, naming the line",
  ignore: !(await Deno.stat(new URL("../../builders/null.ts", import.meta.url)).then(
    () => true,
    () => false,
  )),
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "kiln-cli-resume-" });
    const home = join(root, "home");
    try {
      const template = join(root, "t.json");
      await Deno.writeTextFile(
        template,
        JSON.stringify({
          builders: [{ type: "null", communicator: "none" }],
          provisioners: [{ type: "shell-local", inline: ["exit 1"] }],
        }),
      );
      const failed = await kiln(home, "build", "-on-error=abort", template);
      assert.equal(failed.code, 1);
      const id = (await kiln(home, "runs", "--json")).stdout;
      const runId = JSON.parse(id)[0].id;
      const file = eventsPath(runId, home);
      const bytes = await Deno.readFile(file);
      const third = bytes.indexOf(0x0a, bytes.indexOf(0x0a) + 1) + 5;
      bytes[third] = bytes[third] === 0x61 ? 0x62 : 0x61;
      await Deno.writeFile(file, bytes);
      const resume = await kiln(home, "build", "--resume", runId);
      assert.equal(resume.code, 1);
      const lines = resume.stderr.trim().split("\n");
      assert.match(lines.at(-1)!, /^kiln build: .*events\.jsonl:3: /);
      assert.ok(!resume.stderr.includes("    at "), "no stack trace");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
