/**
 * windows-restart against a recording communicator that plays a machine
 * going down and coming back: the command sequence Packer uses (restart,
 * test restart, availability checks), restart codes, custom checks,
 * pending-reboot registry keys and the timeout.
 */
import assert from "node:assert/strict";
import { windowsRestartProvisioner } from "../../provisioners/windows_restart.ts";
import {
  ABORT_RESTART_COMMAND,
  DEFAULT_REGISTRY_KEYS,
  DEFAULT_RESTART_CHECK_COMMAND,
  DEFAULT_RESTART_COMMAND,
  restartMachine,
  type RestartOptions,
  TRY_RESTART_COMMAND,
} from "../../provisioners/windows/restart_wait.ts";
import { decodeEncodedCommand } from "../support/winrm/windows_powershell.ts";
import { DisconnectedError } from "../../communicators/communicator.ts";
import { RecordingCommunicator, type Responder } from "../support/recording_communicator.ts";
import { decode, issues, provisionContext } from "./support.ts";

const FAST = { pollMs: 5, busyMs: 5, retryMs: 5 };

function restart(options: Partial<RestartOptions>, respond: Responder) {
  const comm = new RecordingCommunicator(respond);
  const { ctx, ui } = provisionContext({ buildName: "win" });
  ctx.comm = comm;
  const done = restartMachine(ctx, {
    restartCommand: DEFAULT_RESTART_COMMAND,
    checkCommand: DEFAULT_RESTART_CHECK_COMMAND,
    timeoutMs: 60_000,
    checkRegistry: false,
    registryKeys: DEFAULT_REGISTRY_KEYS,
    ...FAST,
    ...options,
  });
  return { comm, ui, done };
}

const down = () => {
  throw new DisconnectedError("connection refused");
};

/** A machine that is away for `awayCalls` calls after the restart command, then answers. */
function machine(awayCalls: number, extra: Responder = () => ({ exitStatus: 0 })): Responder {
  let away = -1;
  return (command, i) => {
    if (command === DEFAULT_RESTART_COMMAND) {
      away = awayCalls;
      return { exitStatus: 0 };
    }
    if (away > 0) {
      away--;
      return down();
    }
    if (command === DEFAULT_RESTART_CHECK_COMMAND) return { stdout: "KILN-WINRM restarted.\r\n" };
    return extra(command, i);
  };
}

Deno.test("windows-restart: restart, see the machine go, poll until PowerShell answers", async () => {
  const { comm, ui, done } = restart({}, machine(3));
  await done;
  assert.deepEqual(comm.commands, [
    DEFAULT_RESTART_COMMAND,
    TRY_RESTART_COMMAND, // refused: the machine is away
    DEFAULT_RESTART_CHECK_COMMAND,
    DEFAULT_RESTART_CHECK_COMMAND,
    DEFAULT_RESTART_CHECK_COMMAND, // the first answer
  ]);
  assert.deepEqual(ui.says, [
    "Restarting Machine",
    "Waiting for machine to restart...",
    "Machine successfully restarted, moving on",
  ]);
  assert.deepEqual(ui.messages, ["KILN-WINRM restarted."]);
});

Deno.test("windows-restart: the default check is Packer's encoded PowerShell echo", () => {
  const m = /^powershell\.exe -EncodedCommand (\S+)$/.exec(DEFAULT_RESTART_CHECK_COMMAND);
  assert.ok(m);
  assert.equal(
    decodeEncodedCommand(m[1]),
    `$ProgressPreference = 'SilentlyContinue';echo ("{0} restarted." -f [System.Net.Dns]::GetHostName())`,
  );
});

Deno.test("windows-restart: a shutdown still under way (1115/1190) is waited out", async () => {
  let busy = 2;
  const { comm, done } = restart({}, (command) => {
    if (command === TRY_RESTART_COMMAND) return busy-- > 0 ? { exitStatus: 1115 } : down();
    if (command === DEFAULT_RESTART_CHECK_COMMAND) return { stdout: "X restarted.\r\n" };
    return { exitStatus: 1190 };
  });
  await done;
  assert.deepEqual(comm.commands.filter((c) => c === TRY_RESTART_COMMAND).length, 3);
});

Deno.test("windows-restart: a test restart that is accepted is cancelled with shutdown /a", async () => {
  const { comm, done } = restart({}, (command) => {
    if (command === DEFAULT_RESTART_CHECK_COMMAND) return { stdout: "X restarted.\r\n" };
    return { exitStatus: 0 };
  });
  await done;
  assert.deepEqual(comm.commands.slice(1, 3), [TRY_RESTART_COMMAND, ABORT_RESTART_COMMAND]);
});

Deno.test("windows-restart: a custom check must exit 0 before the PowerShell check runs", async () => {
  let checks = 0;
  const { comm, done } = restart(
    { checkCommand: "powershell -command \"& {Write-Output 'restarted.'}\"" },
    machine(1, (command) => {
      if (command.startsWith("powershell -command")) return { exitStatus: ++checks < 3 ? 1 : 0 };
      return { exitStatus: 1115 };
    }),
  );
  await done;
  const tail = comm.commands.slice(2);
  assert.equal(tail.filter((c) => c.startsWith("powershell -command")).length, 3);
  assert.equal(tail.at(-1), DEFAULT_RESTART_CHECK_COMMAND);
});

Deno.test("windows-restart: check_registry waits until no pending-reboot key is left", async () => {
  let pending = 2;
  const testPath = (c: string) =>
    c.startsWith("powershell.exe") && c !== DEFAULT_RESTART_CHECK_COMMAND;
  const { comm, done } = restart(
    { checkRegistry: true, registryKeys: ["HKLM:SOFTWARE\\A", "HKLM:SOFTWARE\\B"] },
    machine(0, (command) => {
      if (testPath(command)) {
        const key = decodeEncodedCommand(command.split(" ")[2]);
        const present = key.includes("\\A") && pending-- > 0;
        return { stdout: present ? "True\r\n" : "False\r\n" };
      }
      return down();
    }),
  );
  await done;
  const keys = comm.commands.filter(testPath).map((c) => decodeEncodedCommand(c.split(" ")[2]));
  assert.deepEqual(keys, [
    `$ProgressPreference = 'SilentlyContinue';Test-Path "HKLM:SOFTWARE\\A"`,
    `$ProgressPreference = 'SilentlyContinue';Test-Path "HKLM:SOFTWARE\\A"`,
    `$ProgressPreference = 'SilentlyContinue';Test-Path "HKLM:SOFTWARE\\A"`,
    `$ProgressPreference = 'SilentlyContinue';Test-Path "HKLM:SOFTWARE\\B"`,
  ]);
});

Deno.test("windows-restart: restart codes other than 0/1115/1190 fail; a lost connection counts as going down", async () => {
  const refused = restart({}, () => ({ exitStatus: 5 }));
  await assert.rejects(refused.done, /Restart script exited with non-zero exit status: 5/);
  const dropped = restart({}, (command) => {
    if (command === DEFAULT_RESTART_COMMAND) return { exitStatus: -1 };
    if (command === DEFAULT_RESTART_CHECK_COMMAND) return { stdout: "X restarted.\r\n" };
    return down();
  });
  await dropped.done;
  assert.equal(dropped.comm.commands.filter((c) => c === DEFAULT_RESTART_COMMAND).length, 1);
});

Deno.test("windows-restart: a machine that never comes back times out with Packer's message", async () => {
  const { ui, done } = restart({ timeoutMs: 200 }, machine(Infinity));
  await assert.rejects(done, /^Error: Timeout waiting for machine to restart\.$/);
  assert.deepEqual(ui.errors, ["Timeout waiting for machine to restart."]);
});

Deno.test("windows-restart: options decode with Packer's defaults; unknown ones are named", () => {
  const config = decode(windowsRestartProvisioner.schema, {});
  assert.equal(config.restart_timeout, 5 * 60_000);
  assert.deepEqual(issues(windowsRestartProvisioner.schema, { restart_timeout: "soon" }).length, 1);
  assert.match(issues(windowsRestartProvisioner.schema, { pause_after: "1s" })[0], /pause_after/);
});
