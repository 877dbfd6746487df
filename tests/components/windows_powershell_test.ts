/**
 * powershell against a recording communicator: the variables file (values
 * escaped for PowerShell), the script, the command sent as
 * `-EncodedCommand` whose text is Packer's wrapper, the cleanup script,
 * elevated runs through a scheduled-task runner with the password kept out
 * of commands and output, and Packer's validation messages.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { powershellProvisioner } from "../../provisioners/powershell.ts";
import { decodeEncodedCommand } from "../support/winrm/windows_powershell.ts";
import { RecordingCommunicator, type Responder } from "../support/recording_communicator.ts";
import { decode, issues, provisionContext, withTempDir } from "./support.ts";

const schema = powershellProvisioner.schema;

function run(raw: Record<string, unknown>, respond?: Responder) {
  const comm = new RecordingCommunicator(respond);
  const { ctx, ui, events } = provisionContext({ buildName: "win", builderType: "null" });
  const masked: string[] = [];
  ctx.secrets = { ...ctx.secrets, mask: (v) => void masked.push(v) };
  ctx.comm = comm;
  const done = powershellProvisioner.provision(ctx, decode(schema, raw));
  return { comm, ui, events, done, masked };
}

const ENCODED = /^powershell -executionpolicy (\w+) -EncodedCommand ([A-Za-z0-9+/=]+)$/;

function decoded(command: string): { policy: string; script: string } {
  const m = ENCODED.exec(command);
  assert.ok(m, `not an encoded command: ${command}`);
  return { policy: m[1], script: decodeEncodedCommand(m[2]) };
}

const wrapper = (vars: string, path: string, debug = "") =>
  `& { if (Test-Path variable:global:ProgressPreference){set-variable -name ` +
  `variable:global:ProgressPreference -value 'SilentlyContinue'};${debug}. ${vars}; ` +
  `&'${path}'; exit $LastExitCode }`;

Deno.test("powershell: variables file, script, encoded wrapper, then cleanup — in Packer's order", async () => {
  const { comm, ui, done } = run(
    { inline: ["Write-Output hi", "exit 0"], environment_vars: [`Q=it's "$x" \`y`] },
    () => ({ stdout: "hi\r\n" }),
  );
  await done;
  const [vars, script, cleanup] = comm.uploads;
  const id = /packer-ps-env-vars-([0-9a-f-]{36})\.ps1$/.exec(vars.path)?.[1];
  assert.ok(id, vars.path);
  assert.equal(vars.path, `c:/Windows/Temp/packer-ps-env-vars-${id}.ps1`);
  assert.equal(
    vars.text,
    `$env:PACKER_BUILDER_TYPE="null"; $env:PACKER_BUILD_NAME="win"; ` +
      '$env:Q="it`\'s `"`$x`" ``y"; ',
  );
  assert.equal(script.path, `c:/Windows/Temp/script-${id}.ps1`);
  assert.equal(script.text, "Write-Output hi\nexit 0\n");
  assert.equal(cleanup.path, `c:/Windows/Temp/packer-cleanup-${id}.ps1`);
  assert.equal(
    cleanup.text,
    [vars.path, script.path, cleanup.path].map((p) => `if (Test-Path ${p}) {Remove-Item ${p}}\n`)
      .join(""),
  );
  assert.equal(comm.commands.length, 2);
  assert.deepEqual(decoded(comm.commands[0]), {
    policy: "bypass",
    script: wrapper(vars.path, script.path),
  });
  assert.deepEqual(decoded(comm.commands[1]), {
    policy: "bypass",
    script: wrapper(vars.path, cleanup.path),
  });
  assert.deepEqual(comm.calls.map((c) => c.op), ["upload", "upload", "start", "upload", "start"]);
  assert.equal(ui.says[0], "Provisioning with Powershell...");
  assert.match(ui.says[1], /^Provisioning with powershell script: .*powershell-provisioner/);
  assert.deepEqual(ui.messages, ["hi", "hi"]);
});

Deno.test("powershell: execution_policy, debug_mode, skip_clean and a remote_path directory", async () => {
  await withTempDir(async (dir) => {
    const script = join(dir, "setup.ps1");
    await Deno.writeTextFile(script, "Write-Host 'x'\r\n");
    const { comm, done } = run({
      script,
      execution_policy: "remotesigned",
      debug_mode: 2,
      skip_clean: true,
      remote_path: "C:/stage/",
      remote_env_var_path: "C:/stage/vars.ps1",
    });
    await done;
    assert.deepEqual(comm.uploads.map((u) => [u.path, u.text]), [
      ["C:/stage/vars.ps1", `$env:PACKER_BUILDER_TYPE="null"; $env:PACKER_BUILD_NAME="win"; `],
      ["C:/stage/setup.ps1", "Write-Host 'x'\r\n"],
    ]);
    assert.deepEqual(comm.commands.map(decoded), [{
      policy: "remotesigned",
      script: wrapper("C:/stage/vars.ps1", "C:/stage/setup.ps1", "Set-PsDebug -Trace 2;"),
    }]);
  });
});

Deno.test("powershell: a user's execute_command is sent as written; policy none sends the bare block", async () => {
  const custom = run({
    inline: ["x"],
    skip_clean: true,
    execute_command: `powershell -command "& {{.Path}}" {{build_type}}`,
  });
  await custom.done;
  assert.match(
    custom.comm.commands[0],
    /^powershell -command "& c:\/Windows\/Temp\/script-.*\.ps1" null$/,
  );
  const none = run({ inline: ["x"], skip_clean: true, execution_policy: "none" });
  await none.done;
  assert.match(none.comm.commands[0], /^& \{ if \(Test-Path .*; exit \$LastExitCode \}$/);
});

Deno.test("powershell: exit codes are judged; a failed cleanup only warns", async () => {
  const failing = run({ inline: ["exit 5"] }, () => ({ exitStatus: 5 }));
  await assert.rejects(failing.done, /Script exited with non-zero exit status: 5/);
  assert.equal(failing.comm.commands.length, 1, "no cleanup after a failed script");
  const cleanupFails = run({ inline: ["x"] }, (_, i) => ({ exitStatus: i === 0 ? 0 : 1 }));
  await cleanupFails.done;
  assert.match(cleanupFails.ui.errors.at(-1)!, /Could not remove the uploaded scripts .*exited 1/);
});

Deno.test("powershell: elevated runs go through a scheduled-task runner; the password stays out of sight", async () => {
  const password = `p'a"ss$w0rd`;
  const { comm, ui, events, done, masked } = run({
    inline: ["whoami"],
    elevated_user: "Administrator",
    elevated_password: password,
    skip_clean: true,
  });
  await done;
  assert.deepEqual(masked, [password]);
  const runner = comm.uploads.find((u) => u.path.includes("packer-elevated-shell-"));
  assert.ok(runner);
  assert.match(runner.path, /^C:\/Windows\/Temp\/packer-elevated-shell-[0-9a-f-]{36}\.ps1$/);
  assert.deepEqual(comm.commands, [`powershell -executionpolicy bypass -file "${runner.path}"`]);
  assert.ok(runner.text.includes(`'p''a"ss$w0rd', 1, $null)`), "password as a literal");
  assert.ok(runner.text.includes("<UserId>Administrator</UserId><LogonType>Password</LogonType>"));
  // The task runs the (encoded) wrapper through cmd, its output redirected to the log it tails.
  const args = /<Arguments>\/c (.*?)<\/Arguments>/.exec(runner.text)?.[1];
  assert.ok(args);
  const m =
    /^(powershell -executionpolicy bypass -EncodedCommand \S+) &gt; (%SYSTEMROOT%\/Temp\/packer-[0-9a-f-]+\.out) 2&gt;&amp;1$/
      .exec(args);
  assert.ok(m, args);
  assert.match(
    decoded(m[1]).script,
    /^& \{ .*&'c:\/Windows\/Temp\/script-.*\.ps1'; exit \$LastExitCode \}$/,
  );
  assert.ok(runner.text.includes(`$log = [Environment]::ExpandEnvironmentVariables('${m[2]}')`));
  const visible = JSON.stringify([comm.commands, ui, events]);
  assert.ok(!visible.includes("w0rd"), "the password is in no command, output or event");
});

Deno.test("powershell: without a password the task uses the service-account logon", async () => {
  const { comm, done } = run({ inline: ["x"], elevated_user: "SYSTEM", skip_clean: true });
  await done;
  const runner = comm.uploads.find((u) => u.path.includes("packer-elevated-shell-"))!;
  assert.ok(!runner.text.includes("<LogonType>"));
  assert.ok(runner.text.includes(`'SYSTEM', $null, 5, $null)`));
});

Deno.test("powershell: validation in Packer's words, naming the option", () => {
  assert.deepEqual(issues(schema, { inline: ["x"], elevated_password: "p", debug_mode: 3 }), [
    "c.elevated_user: Must supply an 'elevated_user' if 'elevated_password' provided",
    "c.debug_mode: 3 is an invalid Trace level for `debug_mode`; valid values are 0, 1, and 2",
  ]);
  assert.deepEqual(issues(schema, { script: "/no/a.ps1", scripts: ["/no/b.ps1"] }), [
    "c.scripts: Only one of script or scripts can be specified.",
    "c.script: Bad script '/no/a.ps1': stat /no/a.ps1: no such file or directory",
  ]);
  const policy = issues(schema, { inline: ["x"], execution_policy: "sometimes" });
  assert.equal(policy.length, 1);
  assert.match(policy[0], /^c\.execution_policy: .*bypass/);
});
