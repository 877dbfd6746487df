/**
 * The shell provisioner's `use_env_var_file` over a real sshd: the values go
 * to a 0600 file in remote_folder that the command sources, so no process on
 * either side shows them (here both sides are this host, so one sweep of
 * /proc sees kiln, sshd and the script alike).
 */
import assert from "node:assert/strict";
import { shellProvisioner } from "../../provisioners/shell.ts";
import {
  ENV_FILE_SSH_USER,
  type EnvFileObservation,
  envFileProblems,
  openEnvFileLab,
} from "../support/env_var_file_lab.ts";
import { havePacker, provisionContext, withConnectedLab } from "./helpers.ts";

async function uidOf(user: string): Promise<number> {
  const out = await new Deno.Command("id", { args: ["-u", user] }).output();
  return Number(new TextDecoder().decode(out.stdout).trim());
}

Deno.test("shell use_env_var_file over SSH: the secret is on no command line, the script sees it exactly", async () => {
  const lab = await openEnvFileLab();
  try {
    const o = await lab.run("shell over SSH", "success");
    assert.deepEqual(envFileProblems(o), []);
    assert.deepEqual(o.argvHits, [], "no process (kiln, sshd, the shells, the script) showed it");
    assert.equal(o.seenSecret, o.secret.value, "quotes, $, backslash and a newline survive");
    assert.equal(o.seenPlain, o.plain);
    const file = o.envFileWhileRunning!;
    assert.match(file.path, /\/varfile_\d+\.sh$/, "Packer's name, in remote_folder");
    assert.equal(file.mode, 0o600);
    assert.equal(file.uid, await uidOf(ENV_FILE_SSH_USER));
    assert.deepEqual(o.envFilesLeft, []);
  } finally {
    await lab.close();
  }
});

Deno.test("shell use_env_var_file over SSH: removed after a failing script and after Ctrl-C too", async () => {
  const lab = await openEnvFileLab();
  try {
    for (const ending of ["failure", "ctrl-c"] as const) {
      const o = await lab.run("shell over SSH", ending);
      // Packer 1.6.6 and current Packer leave the file (and its values) after a failure.
      assert.deepEqual(envFileProblems(o), [], ending);
    }
  } finally {
    await lab.close();
  }
});

Deno.test("shell without use_env_var_file keeps Packer's default: the values are in the remote argv", async () => {
  const lab = await openEnvFileLab();
  try {
    const o = await lab.run("shell over SSH", "success", { useEnvVarFile: false });
    assert.equal(o.code, 0, o.output);
    assert.equal(o.seenSecret, o.secret.value);
    assert.ok(o.argvHits.length > 0, "chmod +x {{.Path}}; {{.Vars}} {{.Path}} shows them");
    assert.match(
      o.argvHits[0].argv,
      /^sh -c chmod \+x \S+; PACKER_BUILDER_TYPE='null' .* SECRET='/,
    );
  } finally {
    await lab.close();
  }
});

/** The env var file's text with this run's values replaced, to compare kiln's with Packer's. */
function shapeOf(o: EnvFileObservation): string {
  return (o.envFileWhileRunning?.content ?? "")
    .replace(o.secret.value.replaceAll("'", `'"'"'`), "<secret>")
    .replace(o.plain, "<plain>");
}

Deno.test({
  name:
    "shell over SSH shows in argv exactly what Packer 1.6.6 shows, with and without use_env_var_file",
  ignore: !(await havePacker()),
  fn: async () => {
    const lab = await openEnvFileLab();
    try {
      for (const useEnvVarFile of [false, true]) {
        const kiln = await lab.run("shell over SSH", "success", { useEnvVarFile });
        const packer = await lab.run("shell over SSH", "success", {
          useEnvVarFile,
          runner: "packer",
        });
        assert.equal(packer.code, 0, packer.output);
        assert.equal(kiln.code, 0, kiln.output);
        assert.equal(kiln.argvHits.length > 0, !useEnvVarFile);
        assert.equal(packer.argvHits.length > 0, !useEnvVarFile);
        assert.equal(packer.seenSecret, packer.secret.value);
        assert.equal(kiln.seenSecret, kiln.secret.value);
        if (useEnvVarFile) {
          assert.match(shapeOf(kiln), /^export SECRET='<secret>'$/m);
          assert.equal(shapeOf(kiln), shapeOf(packer), "the same file, line for line");
          assert.equal(kiln.envFileWhileRunning?.mode, packer.envFileWhileRunning?.mode);
        }
      }
    } finally {
      await lab.close();
    }
  },
});

const defaults = {
  binary: false,
  valid_exit_codes: [0],
  inline_shebang: "/bin/sh -e",
  start_retry_timeout: 10_000,
  expect_disconnect: false,
  use_env_var_file: true,
};

Deno.test("shell use_env_var_file: skip_clean leaves the 0600 file, as Packer; CRLF becomes LF unless binary", () =>
  withConnectedLab(async (lab, comm) => {
    const { ctx, rec } = provisionContext(comm);
    await shellProvisioner.provision(ctx, {
      ...defaults,
      inline: ['printf "%s|" "$A"'],
      environment_vars: ["A=one\r\ntwo"],
      remote_folder: lab.dir,
      skip_clean: true,
    });
    assert.deepEqual(rec.messages, ["one", "two|"]);
    const left = [...Deno.readDirSync(lab.dir)].filter((e) => e.name.startsWith("varfile_"));
    assert.equal(left.length, 1, "skip_clean keeps the env var file");
    const path = `${lab.dir}/${left[0].name}`;
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
    assert.match(Deno.readTextFileSync(path), /^export A='one\ntwo'\n/m);
    Deno.removeSync(path);

    const binary = provisionContext(comm);
    await shellProvisioner.provision(binary.ctx, {
      ...defaults,
      inline: ['printf "%s|" "$A" | od -c | head -1'],
      environment_vars: ["A=one\r\ntwo"],
      remote_folder: lab.dir,
      binary: true,
      skip_clean: false,
    });
    assert.match(
      binary.rec.messages.join("\n"),
      /o {3}n {3}e {2}\\r {2}\\n/,
      "binary keeps the CR",
    );
    assert.deepEqual(
      [...Deno.readDirSync(lab.dir)].filter((e) => e.name.startsWith("varfile_")),
      [],
    );
  }));

Deno.test("shell use_env_var_file: when the machine is gone, kiln says where the file may be left, within seconds", () =>
  withConnectedLab(async (lab, comm) => {
    const { ctx, rec } = provisionContext(comm);
    const down = (async () => {
      while (!rec.messages.includes("going down")) await new Promise((r) => setTimeout(r, 20));
      await lab.sshd.stop();
    })();
    const started = Date.now();
    await assert.rejects(
      shellProvisioner.provision(ctx, {
        ...defaults,
        inline: ["echo going down", "sleep 20"],
        environment_vars: ["A=1"],
        remote_folder: lab.dir,
        skip_clean: false,
      }),
      /Script disconnected unexpectedly/,
    );
    await down;
    assert.ok(Date.now() - started < 20_000, `gave up after ${Date.now() - started} ms`);
    assert.match(
      rec.errors.join("\n"),
      /Could not make sure the environment variable file \S+\/varfile_\d+\.sh is removed/,
    );
    await lab.sshd.start();
  }));
