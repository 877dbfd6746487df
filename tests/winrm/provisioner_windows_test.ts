/**
 * The Windows provisioners end to end: a real `kiln build` of a null
 * template with `communicator: "winrm"` against the WinRM test server,
 * whose cmd.exe / PowerShell emulation runs what the provisioners send —
 * output lines, environment variables, exit codes, cleanup, an emulated
 * reboot survived, and passwords kept out of every output.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startWinrmServer, type WinrmServer } from "../support/winrm/server.ts";
import { createWindowsEmulator } from "../support/winrm/windows_commands.ts";
import type { CommandEmulator } from "../support/winrm/emulation.ts";
import { runKiln } from "../support/kiln_cli.ts";
import { withTempDir } from "../support/temp_dir.ts";
import {
  DEFAULT_RESTART_CHECK_COMMAND,
  DEFAULT_RESTART_COMMAND,
} from "../../provisioners/windows/restart_wait.ts";

const PASSWORD = "W1nRM-pa55!";

interface Machine {
  server: WinrmServer;
  /** When each emulated restart was asked for (ms since epoch), and each command line seen after. */
  restarts: number[];
  seen: { at: number; line: string }[];
}

async function withMachine(fn: (m: Machine, dir: string) => Promise<void>): Promise<void> {
  const emulate = createWindowsEmulator({ restartDownMs: 1500 });
  const restarts: number[] = [];
  const seen: { at: number; line: string }[] = [];
  const emulator: CommandEmulator = (line, io) => {
    seen.push({ at: Date.now(), line });
    return emulate(line, {
      ...io,
      restart: (ms) => {
        restarts.push(Date.now());
        io.restart(ms);
      },
    });
  };
  const server = await startWinrmServer({ password: PASSWORD, emulator });
  try {
    await withTempDir((dir) => fn({ server, restarts, seen }, dir), "kiln-winprov-");
  } finally {
    await server.stop();
  }
}

function template(port: number, provisioners: unknown[]) {
  return {
    variables: { pw: PASSWORD },
    "sensitive-variables": ["pw"],
    builders: [{
      type: "null",
      communicator: "winrm",
      winrm_host: "127.0.0.1",
      winrm_port: port,
      winrm_username: "vagrant",
      winrm_password: "{{user `pw`}}",
      winrm_timeout: "1m",
    }],
    provisioners,
  };
}

async function build(dir: string, t: unknown) {
  const file = join(dir, "t.json");
  await Deno.writeTextFile(file, JSON.stringify(t));
  const home = join(dir, ".kiln");
  const out = await runKiln(["build", file], { cwd: dir, home });
  const logs: string[] = [];
  for await (const run of Deno.readDir(join(home, "runs"))) {
    logs.push(await Deno.readTextFile(join(home, "runs", run.name, "events.jsonl")));
  }
  return { ...out, text: out.stdout + out.stderr, log: logs.join("") };
}

const exists = (p: string) => Deno.stat(p).then(() => true, () => false);

Deno.test("windows-shell, powershell and windows-restart run over WinRM and survive a reboot", async () => {
  await withMachine(async (m, dir) => {
    const bat = join(dir, "setup.bat");
    await Deno.writeTextFile(bat, "@echo off\r\necho from bat %APP_DIR%\r\nexit /b 2\r\n");
    const out = await build(
      dir,
      template(m.server.port, [
        {
          type: "windows-shell",
          inline: ["@echo off", "echo shell build=%PACKER_BUILD_NAME% greeting=%GREETING%"],
          environment_vars: ["GREETING=hello, world"],
        },
        {
          type: "windows-shell",
          script: bat,
          environment_vars: ["APP_DIR=C:\\app"],
          valid_exit_codes: [0, 2],
        },
        {
          type: "powershell",
          inline: [
            `Write-Output "ps type=$env:PACKER_BUILDER_TYPE q=$env:QUOTED"`,
            "Write-Host 'second line'",
          ],
          environment_vars: [`QUOTED=it's "$x" \`n`],
        },
        { type: "windows-restart", restart_timeout: "2m" },
        {
          type: "powershell",
          inline: ["Write-Output 'after restart'", "exit 7"],
          valid_exit_codes: [7],
        },
      ]),
    );
    assert.equal(out.code, 0, out.text);
    const lines = out.stdout.split("\n");
    for (
      const expected of [
        "    null: shell build=null greeting=hello, world",
        "    null: from bat C:\\app",
        '    null: ps type=null q=it\'s "$x" `n',
        "    null: second line",
        "==> null: Restarting Machine",
        "==> null: Waiting for machine to restart...",
        "    null: KILN-WINRM restarted.",
        "==> null: Machine successfully restarted, moving on",
        "    null: after restart",
      ]
    ) assert.ok(lines.includes(expected), `missing ${JSON.stringify(expected)} in:\n${out.text}`);
    // The machine really went away and the provisioners after it ran on the rebooted machine.
    assert.equal(m.restarts.length, 1, "one emulated reboot");
    const restartAt = m.restarts[0];
    assert.equal(m.seen.filter((s) => s.at <= restartAt).at(-1)?.line, DEFAULT_RESTART_COMMAND);
    const after = m.seen.filter((s) => s.at > restartAt + 1500).map((s) => s.line);
    assert.ok(after.includes(DEFAULT_RESTART_CHECK_COMMAND), after.join("\n"));
    assert.ok(after.some((l) => l.includes("-EncodedCommand")), "the last powershell ran after");
    assert.match(out.log, /"type":"MachineRestarted"/);
    // powershell removed what it uploaded; windows-shell leaves its script, as Packer does.
    const temp = join(m.server.root, "C/Windows/Temp");
    const left = [];
    for await (const e of Deno.readDir(temp)) left.push(e.name);
    assert.deepEqual(left, ["script.bat"]);
    assert.ok(!out.text.includes(PASSWORD) && !out.log.includes(PASSWORD), "password masked");
  });
});

Deno.test("a failing powershell script fails the build with its exit code", async () => {
  await withMachine(async (m, dir) => {
    const out = await build(
      dir,
      template(m.server.port, [{
        type: "powershell",
        inline: ["Write-Output 'about to fail'", "exit 3"],
      }]),
    );
    assert.equal(out.code, 1, out.text);
    assert.ok(out.stdout.includes("    null: about to fail"), out.text);
    assert.match(
      out.text,
      /Script exited with non-zero exit status: 3\.Allowed exit codes are: \[0\]/,
    );
    assert.match(out.log, /"exitStatus":3/);
  });
});

Deno.test("elevated powershell: the runner is refused by the emulator, and the password never shows", async () => {
  await withMachine(async (m, dir) => {
    const elevated = "El3vated-Secret";
    const t = template(m.server.port, [{
      type: "powershell",
      inline: ["whoami"],
      elevated_user: "Administrator",
      elevated_password: "{{user `elevated`}}",
    }]);
    Object.assign(t.variables, { elevated });
    t["sensitive-variables"].push("elevated");
    const out = await build(dir, t);
    assert.equal(out.code, 1, out.text);
    assert.match(out.text, /kiln's Windows emulator does not support/);
    assert.match(out.text, /Script exited with non-zero exit status: 1/);
    assert.ok(m.seen.some((s) => /-file "C:\/Windows\/Temp\/packer-elevated-shell-/.test(s.line)));
    for (const secret of [elevated, PASSWORD]) {
      assert.ok(!out.text.includes(secret) && !out.log.includes(secret), `${secret} leaked`);
    }
    assert.ok(!(await exists(join(m.server.root, "C/Windows/Temp/script.bat"))));
  });
});

Deno.test("windows-restart with a PowerShell restart_command, a restart_check_command and check_registry", async () => {
  await withMachine(async (m, dir) => {
    const out = await build(
      dir,
      template(m.server.port, [{
        type: "windows-restart",
        restart_command: `powershell -command "Restart-Computer -Force"`,
        restart_check_command: `powershell -command "& {Write-Output 'custom check: restarted.'}"`,
        check_registry: true,
      }]),
    );
    assert.equal(out.code, 0, out.text);
    assert.equal(m.restarts.length, 1);
    const after = m.seen.filter((s) => s.at > m.restarts[0]).map((s) => s.line);
    const custom = after.findIndex((l) => l.includes("custom check"));
    assert.ok(custom >= 0, after.join("\n"));
    assert.equal(after[custom + 1], DEFAULT_RESTART_CHECK_COMMAND);
    assert.equal(after.length - custom - 2, 3, "one Test-Path per default registry key");
    assert.ok(out.stdout.includes("    null: custom check: restarted."), out.text);
    assert.ok(out.stdout.split("\n").filter((l) => l === "    null: False").length === 3, out.text);
  });
});
