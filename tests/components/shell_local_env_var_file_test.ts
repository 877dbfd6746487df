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

/** Runs `fn` with TMPDIR pointed at a fresh directory (where shell-local writes its files). */
async function withTmpdir(fn: (tmp: string, out: string) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const tmp = join(dir, "tmp");
    await Deno.mkdir(tmp);
    const previous = Deno.env.get("TMPDIR");
    Deno.env.set("TMPDIR", tmp);
    try {
      await fn(tmp, dir);
    } finally {
      if (previous === undefined) Deno.env.delete("TMPDIR");
      else Deno.env.set("TMPDIR", previous);
    }
  });
}

const schema = shellLocalProvisioner.schema;

Deno.test("shell-local removes its env var file itself when the script fails or is cancelled", async () => {
  await withTmpdir(async (tmp, out) => {
    const { ctx } = provisionContext();
    await assert.rejects(
      shellLocalProvisioner.provision(
        ctx,
        decode(schema, {
          use_env_var_file: true,
          environment_vars: ["A=1"],
          inline: [`ls "$TMPDIR" > ${out}/during`, "exit 4"],
        }),
      ),
      /non-zero exit status: 4/,
    );
    assert.match(await Deno.readTextFile(join(out, "during")), /varfile_\d+\.sh/);
    assert.deepEqual([...Deno.readDirSync(tmp)], [], "nothing left after the failure");

    const abort = new AbortController();
    const cancelled = provisionContext({ signal: abort.signal });
    const run = shellLocalProvisioner.provision(
      cancelled.ctx,
      decode(schema, {
        use_env_var_file: true,
        environment_vars: ["A=1"],
        inline: [`touch ${out}/started`, "sleep 30"],
      }),
    );
    for (let i = 0; i < 400 && !await exists(join(out, "started")); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok([...Deno.readDirSync(tmp)].some((e) => e.name.startsWith("varfile_")));
    abort.abort(new Error("cancelled by test"));
    await assert.rejects(() => run, /cancelled by test/);
    assert.deepEqual([...Deno.readDirSync(tmp)], [], "nothing left after the cancel");
  });
});

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("shell-local use_env_var_file: {{.EnvVarFile}} and env_var_format shape the file and the command", async () => {
  await withTmpdir(async (_tmp, out) => {
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
