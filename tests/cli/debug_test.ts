/**
 * `kiln build -debug`: Packer's pause after every step, answered with Enter
 * on stdin; with stdin closed nothing can answer, so the build goes on.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "../support/temp_dir.ts";
import { CLI_PATH, runKiln } from "../support/kiln_cli.ts";

async function template(dir: string, inline: string[]): Promise<string> {
  const file = join(dir, "t.json");
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      builders: [{ type: "null", communicator: "none" }],
      provisioners: [{ type: "shell-local", inline }],
    }),
  );
  return file;
}

const exists = (path: string) => {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
};

/** `kiln build -debug FILE` with a stdin the test types into. */
function interactive(dir: string, file: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI_PATH, "build", "-debug", file],
    cwd: dir,
    env: { KILN_HOME: join(dir, ".kiln"), NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).spawn();
  const stdin = child.stdin.getWriter();
  const reader = child.stdout.getReader();
  const session = {
    seen: "",
    async waitFor(text: string) {
      while (!session.seen.includes(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stdout ended before "${text}":\n${session.seen}`);
        session.seen += new TextDecoder().decode(value);
      }
    },
    enter: () => stdin.write(new TextEncoder().encode("\n")),
    async finish(): Promise<number> {
      await stdin.close().catch(() => {});
      await reader.cancel().catch(() => {});
      await child.stderr.cancel();
      return (await child.status).code;
    },
  };
  return session;
}

Deno.test("-debug pauses after each step until Enter, and the step after it waits", async () => {
  await withTempDir(async (dir) => {
    const marker = join(dir, "provisioned");
    const file = await template(dir, [`touch ${marker}`]);
    const s = interactive(dir, file);
    try {
      await s.waitFor(
        "==> null: Pausing after run of step 'common.connect'. Press enter to continue.",
      );
      assert.match(s.seen, /^Debug mode enabled\. Builds will not be parallelized\.\n/);
      // Paused: the provisioner has not run, and does not while no one answers.
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(exists(marker), false, "the build went on without Enter");
      await s.enter();
      await s.waitFor("Pausing after run of step 'common.provision'");
      assert.equal(exists(marker), true);
      await s.enter();
      await s.waitFor("Builds finished.");
    } finally {
      assert.equal(await s.finish(), 0, s.seen);
    }
  });
});

Deno.test("-debug pauses before a failed build undoes a step", async () => {
  await withTempDir(async (dir) => {
    const file = await template(dir, ["exit 3"]);
    const s = interactive(dir, file);
    try {
      await s.waitFor("Pausing after run of step 'common.connect'");
      await s.enter();
      await s.waitFor("==> null: Pausing before cleanup of step 'common.connect'. Press enter");
      await new Promise((r) => setTimeout(r, 300));
      assert.doesNotMatch(s.seen, /errored/, "the build ended without Enter");
      await s.enter();
      await s.waitFor("Build 'null' errored");
    } finally {
      assert.equal(await s.finish(), 1, s.seen);
    }
  });
});

Deno.test("-debug with stdin closed does not wait: the build runs through (as Packer without a terminal)", async () => {
  await withTempDir(async (dir) => {
    const marker = join(dir, "provisioned");
    const file = await template(dir, [`touch ${marker}`]);
    const out = await runKiln(["build", "-debug", file], {
      cwd: dir,
      home: join(dir, ".kiln"),
      signal: AbortSignal.timeout(60_000),
    });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.ok(exists(marker));
    assert.match(out.stdout, /\(stdin is closed: -debug will not pause\)/);
    // Said once: later steps do not ask again.
    assert.equal(out.stdout.match(/Pausing after run of step/g)?.length, 1, out.stdout);
  });
});
