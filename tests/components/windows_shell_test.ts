/**
 * windows-shell against a recording communicator: the exact upload and
 * command line Packer sends (set prefixes sorted, values verbatim), output
 * streamed to the UI, exit codes judged, reboots ridden out, bad options
 * named.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { windowsShellProvisioner } from "../../provisioners/windows_shell.ts";
import { WINDOWS_SCRIPT_EVENT } from "../../provisioners/windows/run_script.ts";
import { DisconnectedError } from "../../communicators/communicator.ts";
import { RecordingCommunicator, type Responder } from "../support/recording_communicator.ts";
import { decode, issues, provisionContext, withTempDir } from "./support.ts";

const schema = windowsShellProvisioner.schema;

function run(raw: Record<string, unknown>, respond?: Responder) {
  const comm = new RecordingCommunicator(respond);
  const { ctx, ui, events } = provisionContext({ buildName: "win", builderType: "null" });
  ctx.comm = comm;
  const done = windowsShellProvisioner.provision(ctx, decode(schema, raw));
  return { comm, ui, events, done };
}

Deno.test("windows-shell: inline becomes one batch file run with set prefixes, as Packer sends it", async () => {
  const { comm, ui, events, done } = run(
    { inline: ["echo one", "echo %FOO%"], environment_vars: ['FOO=a "b" & c', "A=1"] },
    () => ({ stdout: 'one\r\na "b" & c\r\n', stderr: "warn\r\n" }),
  );
  await done;
  assert.equal(comm.uploads.length, 1);
  assert.equal(comm.uploads[0].path, "c:/Windows/Temp/script.bat");
  assert.equal(comm.uploads[0].text, "echo one\necho %FOO%\n");
  assert.deepEqual(comm.commands, [
    `set "A=1" && set "FOO=a "b" & c" && set "PACKER_BUILDER_TYPE=null" && ` +
    `set "PACKER_BUILD_NAME=win" && "c:/Windows/Temp/script.bat"`,
  ]);
  assert.equal(comm.calls[0].op, "upload", "the script is uploaded before it runs");
  assert.deepEqual(ui.says.slice(0, 1), ["Provisioning with windows-shell..."]);
  assert.match(ui.says[1], /^Provisioning with shell script: .*windows-shell-provisioner/);
  assert.deepEqual(ui.messages, ["one", `a "b" & c`]);
  assert.deepEqual(ui.errors, ["warn"]);
  assert.equal(events[0].type, WINDOWS_SCRIPT_EVENT);
  assert.equal(events[0].data.exitStatus, 0);
});

Deno.test("windows-shell: scripts run in order with execute_command, remote_path and env_var_format", async () => {
  await withTempDir(async (dir) => {
    const a = join(dir, "a.cmd");
    const b = join(dir, "b.cmd");
    await Deno.writeTextFile(a, "echo a\r\n");
    await Deno.writeTextFile(b, "echo b\r\n");
    const { comm, done } = run({
      scripts: [a, b],
      remote_path: "C:/scripts/x.cmd",
      env_var_format: "set %s=%s&& ",
      execute_command: `cmd /c {{.Vars}}{{.Path}} {{build_name}}`,
    });
    await done;
    assert.deepEqual(comm.uploads.map((u) => [u.path, u.text]), [
      ["C:/scripts/x.cmd", "echo a\r\n"],
      ["C:/scripts/x.cmd", "echo b\r\n"],
    ]);
    const line =
      "cmd /c set PACKER_BUILDER_TYPE=null&& set PACKER_BUILD_NAME=win&& C:/scripts/x.cmd win";
    assert.deepEqual(comm.commands, [line, line]);
  });
});

Deno.test("windows-shell: an exit code outside valid_exit_codes fails with Packer's message", async () => {
  const failing = run({ inline: ["exit /b 3"] }, () => ({ exitStatus: 3 }));
  await assert.rejects(
    failing.done,
    /Script exited with non-zero exit status: 3\.Allowed exit codes are: \[0\]/,
  );
  const allowed = run({ inline: ["exit /b 3"], valid_exit_codes: [0, 3] }, () => ({
    exitStatus: 3,
  }));
  await allowed.done;
});

Deno.test("windows-shell: a machine that cannot be reached yet is retried (upload and run again)", async () => {
  const { comm, done } = run({ inline: ["echo hi"], start_retry_timeout: "1m" }, (_, i) => {
    if (i === 0) throw new DisconnectedError("machine is rebooting");
    return { exitStatus: 0 };
  });
  await done;
  assert.deepEqual(comm.calls.map((c) => c.op), ["upload", "start", "upload", "start"]);
});

Deno.test("windows-shell: a connection lost while the script ran is a clear failure", async () => {
  const { done } = run({ inline: ["shutdown /r /t 0"] }, () => ({ exitStatus: -1 }));
  await assert.rejects(done, /connection to the machine was lost.*windows-restart/s);
});

Deno.test("windows-shell: validation names the option, in Packer's words", () => {
  assert.deepEqual(issues(schema, {}), [
    "c.inline: Either a script file or inline script must be specified.",
  ]);
  assert.deepEqual(issues(schema, { inline: ["x"], script: "/nonexistent.bat" }), [
    "c.inline: Only a script file or an inline script can be specified, not both.",
    "c.script: Bad script '/nonexistent.bat': stat /nonexistent.bat: no such file or directory",
  ]);
  assert.deepEqual(issues(schema, { inline: ["x"], environment_vars: ["=a"], env: {} }), [
    'c.env: unknown configuration key: "env"',
    "c.environment_vars: Environment variable not in format 'key=value': =a",
  ]);
});
