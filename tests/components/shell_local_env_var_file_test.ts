/**
 * shell-local's `use_env_var_file` (a kiln extension: Packer's shell-local has
 * no such option): the variables reach the script through a 0600 file in the
 * run's temp dir, so no value is on a command line `ps` shows.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { shellLocalProvisioner } from "../../provisioners/shell_local.ts";
import { envFileProblems, type EnvFileShape, openEnvFileLab } from "../support/env_var_file_lab.ts";
import { decode, issues, provisionContext, withTempDir } from "./support.ts";

const LOCAL: EnvFileShape[] = ["shell-local provisioner", "shell-local post-processor"];

Deno.test("shell-local use_env_var_file: the secret is on no command line and the script sees it exactly", async () => {
  const lab = await openEnvFileLab();
  try {
    for (const shape of LOCAL) {
      const o = await lab.run(shape, "success");
      assert.deepEqual(envFileProblems(o), [], shape);
      assert.deepEqual(o.argvHits, [], `${shape}: no process showed the secret`);
      assert.equal(o.seenSecret, o.secret.value, `${shape}: quotes, $, newline survive`);
      assert.match(
        o.envFileWhileRunning!.path,
        /\/\.kiln\/runs\/[^/]+\/tmp\/varfile_\d+\.sh$/,
        `${shape}: the file is in the run's own temp dir`,
      );
      assert.equal(o.envFileWhileRunning!.mode, 0o600);
      assert.match(o.envFileWhileRunning!.content, /^export PACKER_BUILDER_TYPE='/);
      assert.deepEqual(o.envFilesLeft, [], `${shape}: gone before the next component runs`);
    }
  } finally {
    await lab.close();
  }
});

Deno.test("shell-local use_env_var_file: a failing script and Ctrl-C leave no env var file", async () => {
  const lab = await openEnvFileLab();
  try {
    for (const shape of LOCAL) {
      for (const ending of ["failure", "ctrl-c"] as const) {
        const o = await lab.run(shape, ending);
        assert.deepEqual(envFileProblems(o), [], `${shape}, ${ending}`);
      }
    }
  } finally {
    await lab.close();
  }
});

Deno.test("shell-local without use_env_var_file keeps Packer's default: the values are in argv", async () => {
  const lab = await openEnvFileLab();
  try {
    const o = await lab.run("shell-local provisioner", "success", { useEnvVarFile: false });
    assert.equal(o.code, 0, o.output);
    assert.equal(o.seenSecret, o.secret.value);
    assert.ok(o.argvHits.length > 0, "Packer's /bin/sh -c '{{.Vars}} {{.Script}}' shows them");
    assert.match(o.argvHits[0].argv, /^\/bin\/sh -c PACKER_BUILDER_TYPE='null' .* SECRET='/);
  } finally {
    await lab.close();
  }
});

const schema = shellLocalProvisioner.schema;

/**
 * shell-local's default command for use_env_var_file, which first notes in
 * `list` the two files shell-local wrote for the run — the env var file and
 * the inline script — so the test can look at exactly those. (Listing TMPDIR
 * instead would mean pointing TMPDIR, which is process-wide, at a private
 * directory: `deno test --parallel` runs other test modules in this same
 * process, and their temp files would land there while this test runs.)
 */
function notingExecuteCommand(list: string): string[] {
  return [
    "/bin/sh",
    "-c",
    `printf '%s\\n' {{.EnvVarFile}} {{.Script}} > ${list}; . {{.EnvVarFile}} && {{.Script}}`,
  ];
}

/** The env var file and the inline script, as the command noted them. */
async function notedFiles(list: string): Promise<{ envVarFile: string; script: string }> {
  const [envVarFile, script] = (await Deno.readTextFile(list)).trimEnd().split("\n");
  assert.match(envVarFile, /\/varfile_\d+\.sh$/);
  assert.match(script, /\/packer-shell\d+$/);
  return { envVarFile, script };
}

Deno.test("shell-local removes its env var file itself when the script fails or is cancelled", async () => {
  await withTempDir(async (out) => {
    const { ctx } = provisionContext();
    const failed = join(out, "failed-files");
    await assert.rejects(
      shellLocalProvisioner.provision(
        ctx,
        decode(schema, {
          use_env_var_file: true,
          environment_vars: ["A=1"],
          execute_command: notingExecuteCommand(failed),
          inline: [`ls $(cat ${failed}) > ${out}/during`, "exit 4"],
        }),
      ),
      /non-zero exit status: 4/,
    );
    const first = await notedFiles(failed);
    assert.deepEqual(
      (await Deno.readTextFile(join(out, "during"))).trimEnd().split("\n").sort(),
      [first.envVarFile, first.script].sort(),
      "both files were there while the script ran",
    );
    assert.deepEqual(await present([first.envVarFile, first.script]), [], "gone after the failure");

    const abort = new AbortController();
    const cancelled = provisionContext({ signal: abort.signal });
    const list = join(out, "cancelled-files");
    const started = join(out, "started");
    const run = shellLocalProvisioner.provision(
      cancelled.ctx,
      decode(schema, {
        use_env_var_file: true,
        environment_vars: ["A=1"],
        execute_command: notingExecuteCommand(list),
        inline: [`touch ${started}`, "sleep 30"],
      }),
    );
    run.catch(() => {}); // Judged below; a failed check on the way must not leave it unhandled.
    let second;
    try {
      // A loaded machine may take a while to start the script; a cancel before
      // it ran would test another path, so the test insists it started.
      const deadline = Date.now() + 20_000;
      while (!await exists(started) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(await exists(started), "the script started within 20 s");
      second = await notedFiles(list);
      assert.deepEqual(
        await present([second.envVarFile, second.script]),
        [second.envVarFile, second.script],
        "both files are there while the script runs",
      );
    } finally {
      abort.abort(new Error("cancelled by test"));
    }
    await assert.rejects(() => run, /cancelled by test/);
    assert.deepEqual(
      await present([second.envVarFile, second.script]),
      [],
      "gone after the cancel",
    );
  });
});

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Which of `paths` exist. */
async function present(paths: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const path of paths) if (await exists(path)) found.push(path);
  return found;
}

Deno.test("shell-local use_env_var_file: {{.EnvVarFile}} and env_var_format shape the file and the command", async () => {
  await withTempDir(async (out) => {
    const { ctx } = provisionContext();
    await shellLocalProvisioner.provision(
      ctx,
      decode(schema, {
        use_env_var_file: true,
        environment_vars: ["GREETING=it's here"],
        env_var_format: "%s='%s'\n",
        execute_command: [
          "/bin/sh",
          "-c",
          "cp {{.EnvVarFile}} " + out + "/copy; set -a; . {{.EnvVarFile}}; {{.Script}}",
        ],
        inline: [`echo "$GREETING" > ${out}/seen`],
      }),
    );
    assert.equal(
      await Deno.readTextFile(join(out, "copy")),
      // Sorted by name as Go sorts (byte-wise), the user's quote escaped as Packer does.
      `GREETING='it'"'"'s here'\nPACKER_BUILDER_TYPE='null'\nPACKER_BUILD_NAME='null'\n`,
    );
    assert.equal(await Deno.readTextFile(join(out, "seen")), "it's here\n");
  });
});

Deno.test("shell-local accepts use_env_var_file only as a boolean", () => {
  assert.deepEqual(issues(schema, { inline: ["true"], use_env_var_file: true }), []);
  assert.equal(issues(schema, { inline: ["true"], use_env_var_file: "yes please" }).length, 1);
});
