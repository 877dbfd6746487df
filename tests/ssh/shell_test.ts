/** The shell provisioner against a real sshd. */
import assert from "node:assert/strict";
import { shellProvisioner } from "../../provisioners/shell.ts";
import {
  havePacker,
  packerBuild,
  provisionContext,
  startLab,
  withConnectedLab,
} from "./helpers.ts";

const defaults = {
  binary: false,
  valid_exit_codes: [0],
  inline_shebang: "/bin/sh -e",
  remote_folder: "/tmp",
  skip_clean: false,
  start_retry_timeout: 10_000,
  use_env_var_file: false,
  expect_disconnect: false,
};

Deno.test("shell: inline commands run as one script with Packer's default env and quoting", () =>
  withConnectedLab(async (_lab, comm) => {
    const { ctx, rec } = provisionContext(comm);
    await shellProvisioner.provision(ctx, {
      ...defaults,
      inline: [
        "cd /",
        'echo "cwd=$(pwd)"',
        'echo "$PACKER_BUILD_NAME/$PACKER_BUILDER_TYPE"',
        'echo "$QUOTED"',
        'echo "$FROM_MAP"',
      ],
      environment_vars: ['QUOTED=it\'s "fine" $HOME', "FROM_MAP=overridden"],
      env: { FROM_MAP: "map wins" },
    });
    assert.deepEqual(rec.messages, ["cwd=/", "null/null", 'it\'s "fine" $HOME', "map wins"]);
    assert.match(rec.says[0], /^Provisioning with shell script: .*packer-shell/);
    const done = rec.events.find((e) => e.type === "ShellScriptFinished");
    assert.equal(done?.data.exitStatus, 0);
    assert.equal((done?.data.stdout as { lines: number }).lines, 4);
    const left = [...Deno.readDirSync("/tmp")].filter((e) =>
      e.name === String(done?.data.remotePath).slice(5)
    );
    assert.equal(left.length, 0, "the uploaded script is removed");
  }));

Deno.test("shell: scripts run in order, CRLF is converted unless binary, exit codes are judged", () =>
  withConnectedLab(async (lab, comm) => {
    const a = `${lab.dir}/a.sh`;
    const b = `${lab.dir}/b.sh`;
    await Deno.writeTextFile(a, "#!/bin/sh\r\necho one\r\n");
    await Deno.writeTextFile(b, "#!/bin/sh\necho two; exit 3\n");
    const { ctx, rec } = provisionContext(comm);
    await assert.rejects(
      shellProvisioner.provision(ctx, { ...defaults, scripts: [a, b] }),
      /Script exited with non-zero exit status: 3\.Allowed exit codes are: \[0\]/,
    );
    assert.deepEqual(rec.messages, ["one", "two"]);
    const ok = provisionContext(comm);
    await shellProvisioner.provision(ok.ctx, { ...defaults, script: b, valid_exit_codes: [0, 3] });
    assert.deepEqual(ok.rec.messages, ["two"]);
    const bin = provisionContext(comm);
    await assert.rejects(
      shellProvisioner.provision(bin.ctx, { ...defaults, script: a, binary: true }),
      /exit status: (126|127|2)/,
      "a CRLF shebang only breaks when the script is sent as binary",
    );
  }));

Deno.test("shell: execute_command, env_var_format, use_env_var_file, remote_path and skip_clean", () =>
  withConnectedLab(async (lab, comm) => {
    const remote = `${lab.dir}/kept.sh`;
    const { ctx, rec } = provisionContext(comm);
    await shellProvisioner.provision(ctx, {
      ...defaults,
      inline: ['echo "$GREETING from $0"'],
      environment_vars: ["GREETING=hello"],
      execute_command: "{{.Vars}} sh {{.Path}}",
      env_var_format: "export %s='%s'; ",
      remote_path: remote,
      skip_clean: true,
    });
    assert.deepEqual(rec.messages, [`hello from ${remote}`]);
    assert.ok((await Deno.stat(remote)).isFile, "skip_clean leaves the script");

    const viaFile = provisionContext(comm);
    await shellProvisioner.provision(viaFile.ctx, {
      ...defaults,
      inline: ['echo "$GREETING"', "ls " + lab.dir],
      environment_vars: ["GREETING=from file"],
      use_env_var_file: true,
      remote_folder: lab.dir,
      remote_file: "custom.sh",
    });
    assert.equal(viaFile.rec.messages[0], "from file");
    assert.ok(viaFile.rec.messages.includes("custom.sh"));
    assert.ok(
      viaFile.rec.messages.some((m) => /^varfile_\d+\.sh$/.test(m)),
      "the env file sits in remote_folder",
    );
    const left = [...Deno.readDirSync(lab.dir)].map((e) => e.name);
    assert.ok(
      !left.includes("custom.sh") && !left.some((n) => n.startsWith("varfile_")),
      "both are cleaned up",
    );
  }));

Deno.test("shell: a reboot mid-script fails unless expect_disconnect; start_retry_timeout waits for the machine", () =>
  withConnectedLab(async (lab, comm) => {
    // Reboot once the script is surely running: when it has said so.
    const reboot = async (said: string[]) => {
      while (!said.includes("going down")) await new Promise((r) => setTimeout(r, 20));
      await lab.sshd.stop();
      await new Promise((r) => setTimeout(r, 300));
      await lab.sshd.start();
    };
    const unexpected = provisionContext(comm);
    const [result] = await Promise.allSettled([
      shellProvisioner.provision(unexpected.ctx, {
        ...defaults,
        inline: ["echo going down", "sleep 20"],
      }),
      reboot(unexpected.rec.messages),
    ]);
    assert.equal(result.status, "rejected");
    assert.match(
      String((result as PromiseRejectedResult).reason),
      /Script disconnected unexpectedly/,
    );

    const expected = provisionContext(comm);
    await Promise.all([
      shellProvisioner.provision(expected.ctx, {
        ...defaults,
        inline: ["echo going down", "sleep 20"],
        expect_disconnect: true,
      }),
      reboot(expected.rec.messages),
    ]);
    assert.equal(
      expected.rec.events.find((e) => e.type === "ShellScriptFinished")?.data.disconnected,
      true,
    );

    // The machine is down when the next script starts: it is retried until it comes back.
    await lab.sshd.stop();
    const after = provisionContext(comm);
    const next = shellProvisioner.provision(after.ctx, {
      ...defaults,
      inline: ["echo after reboot"],
    });
    setTimeout(() => lab.sshd.start(), 700);
    await next;
    assert.deepEqual(after.rec.messages, ["after reboot"]);

    await lab.sshd.stop();
    const gaveUp = provisionContext(comm);
    await assert.rejects(
      shellProvisioner.provision(gaveUp.ctx, {
        ...defaults,
        inline: ["true"],
        start_retry_timeout: 500,
      }),
      /Retryable error: Error uploading script/,
    );
  }));

Deno.test("shell: pause_after waits, and cancellation interrupts the script", () =>
  withConnectedLab(async (_lab, comm) => {
    const ac = new AbortController();
    const { ctx } = provisionContext(comm, ac.signal);
    const running = shellProvisioner.provision(ctx, { ...defaults, inline: ["sleep 30"] });
    setTimeout(() => ac.abort(new Error("timeout: provisioner took too long")), 300);
    await assert.rejects(running, /provisioner took too long/);

    const paused = provisionContext(comm);
    await shellProvisioner.provision(paused.ctx, {
      ...defaults,
      inline: ["true"],
      pause_after: 50,
    });
    assert.ok(paused.rec.says.some((s) => /^Pausing 0.05s after this provisioner/.test(s)));
  }));

Deno.test("shell: the schema refuses bad environment_vars and missing scripts", () => {
  const problems: string[] = [];
  shellProvisioner.schema.check!(
    { environment_vars: ["NOEQUALS", "=novalue", "OK=1"], script: "/nonexistent/script.sh" },
    (key, message) => problems.push(`${key}: ${message}`),
  );
  assert.deepEqual(problems.slice(0, 2), [
    "environment_vars: Environment variable not in format 'key=value': NOEQUALS",
    "environment_vars: Environment variable not in format 'key=value': =novalue",
  ]);
  assert.match(problems[2], /^script: Bad script '\/nonexistent\/script\.sh'/);
});

Deno.test({
  name: "shell: the same template prints the same lines through Packer 1.6.6",
  ignore: !(await havePacker()),
  fn: async () => {
    const lab = await startLab();
    try {
      const script = `${lab.dir}/s.sh`;
      await Deno.writeTextFile(script, '#!/bin/sh\r\necho "script sees $A and $B"\r\n');
      const provisioner = {
        type: "shell",
        inline: [
          'echo "inline $PACKER_BUILD_NAME $PACKER_BUILDER_TYPE"',
          'echo "$A|$B"',
          "echo to-stderr >&2",
        ],
        environment_vars: ["A=it's", 'B=a "b" $c'],
      };
      const second = { type: "shell", script, environment_vars: ["A=1", "B=2"] };
      const template = {
        builders: [{ type: "null", ...lab.config({ ssh_timeout: "10s" }) }],
        provisioners: [provisioner, second],
      };
      await Deno.writeTextFile(`${lab.dir}/t.json`, JSON.stringify(template));
      const packer = await packerBuild(`${lab.dir}/t.json`, lab.dir);
      const lines = packer.stdout.split("\n");
      // Packer prints remote stdout as "    null: …" and stderr like a headline, "==> null: …".
      const packerOut = lines.filter((l) => l.startsWith("    null: ")).map((l) => l.slice(10));
      const packerErr = lines.filter((l) => l === "==> null: to-stderr").map((l) => l.slice(10));
      const packerSays = lines.filter((l) => l.startsWith("==> null: Provisioning")).map((l) =>
        l.slice(10)
      );

      const comm = await lab.connect();
      const { ctx, rec } = provisionContext(comm);
      await shellProvisioner.provision(ctx, { ...defaults, ...provisioner });
      await shellProvisioner.provision(ctx, { ...defaults, ...second });
      await comm.close();
      assert.deepEqual(rec.messages, packerOut);
      assert.deepEqual(rec.errors, packerErr);
      assert.equal(rec.says[1], packerSays[1], "a script is announced by its path");
      assert.match(rec.says[0], /^Provisioning with shell script: \/tmp\/packer-shell\d+$/);
    } finally {
      await lab.dispose();
    }
  },
});
