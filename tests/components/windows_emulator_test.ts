/**
 * The Windows command emulator the WinRM test server uses: each construct of
 * its documented subset behaves as cmd.exe / PowerShell do, and anything
 * outside it fails loudly instead of pretending to work.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { EmulatedIo } from "../support/winrm/emulation.ts";
import { createWindowsEmulator } from "../support/winrm/windows_commands.ts";
import { encodePowerShell } from "../../provisioners/windows/powershell_command.ts";
import { escapePowerShell } from "../../provisioners/windows/env_vars.ts";
import { withTempDir } from "../support/temp_dir.ts";

interface Ran {
  code: number | undefined;
  stdout: string;
  stderr: string;
  restarts: number[];
  env: Record<string, string>;
}

/** A machine rooted at `root`: C:/x maps to root/C/x. */
function machine(root: string, options = {}) {
  const emulate = createWindowsEmulator(options);
  const restarts: number[] = [];
  const localPath = (p: string) =>
    join(root, p.replace(/^([a-zA-Z]):/, (_, d) => d.toUpperCase()).replaceAll("\\", "/"));
  return {
    localPath,
    restarts,
    async run(line: string, env: Record<string, string> = {}): Promise<Ran> {
      let stdout = "";
      let stderr = "";
      const io: EmulatedIo = {
        localPath,
        env,
        stdout: (t) => void (stdout += t),
        stderr: (t) => void (stderr += t),
        restart: (ms) => void restarts.push(ms ?? -1),
        signal: new AbortController().signal,
      };
      const code = await emulate(line, io);
      return { code, stdout, stderr, restarts, env };
    },
    async write(path: string, text: string) {
      const local = localPath(path);
      await Deno.mkdir(join(local, ".."), { recursive: true });
      await Deno.writeTextFile(local, text);
    },
  };
}

function includes(text: string, part: string, message?: string): void {
  assert.ok(
    text.includes(part),
    `${message ?? ""} expected ${JSON.stringify(text)} to include ${JSON.stringify(part)}`,
  );
}

const inRoot = (fn: (m: ReturnType<typeof machine>) => Promise<void>, options = {}) => () =>
  withTempDir((dir) => fn(machine(dir, options)), "kiln-winemu-");

Deno.test(
  "cmd: set prefixes reach a batch file, %VAR% expands, exit /b sets the code",
  inRoot(async (m) => {
    await m.write(
      "c:/Windows/Temp/script.bat",
      '@echo off\r\necho build=%PACKER_BUILD_NAME%\r\necho it\'s "%FOO%"\r\nexit /b 3\r\necho never\r\n',
    );
    const r = await m.run(
      `set "PACKER_BUILD_NAME=win" && set "FOO=a b&c" && "c:/Windows/Temp/script.bat"`,
    );
    assert.deepEqual(r.stdout, 'build=win\r\nit\'s "a b&c"\r\n');
    assert.deepEqual(r.code, 3);
  }),
);

Deno.test(
  "cmd: echo on shows each batch line after the prompt; && stops after a failure",
  inRoot(async (m) => {
    await m.write("c:/t/a.bat", "echo one\nexit /b 1\n");
    const r = await m.run(`c:/t/a.bat && echo after`, { USERPROFILE: "C:\\Users\\packer" });
    assert.deepEqual(
      r.stdout,
      "\r\nC:\\Users\\packer>echo one\r\none\r\n\r\nC:\\Users\\packer>exit /b 1\r\n",
    );
    assert.deepEqual(r.code, 1);
    const or = await m.run(`c:/t/a.bat | more`);
    assert.deepEqual(or.code, 9009);
    includes(or.stderr, "does not support pipes");
  }),
);

Deno.test(
  "cmd: unknown %VAR% stays on a command line; ^ escapes; cmd /c runs a child",
  inRoot(async (m) => {
    const r = await m.run(`echo %NOPE% a^&b & cmd /c "set X=1 && echo %X%"`);
    assert.deepEqual(r.stdout, "%NOPE% a&b\r\n%X%\r\n");
    assert.deepEqual(r.code, 0);
    const exit = await m.run(`cmd /c exit 7`);
    assert.deepEqual(exit.code, 7);
  }),
);

Deno.test(
  "cmd: an unsupported program fails with 9009 and says so",
  inRoot(async (m) => {
    const r = await m.run(`dir c:\\`);
    assert.deepEqual(r.code, undefined, "not a Windows command line this emulator claims");
    const batch = await m.run(`set "A=1" && dir c:\\`);
    assert.deepEqual(batch.code, 9009);
    includes(batch.stderr, "'dir' is not recognized");
    includes(batch.stderr, "emulator does not support it");
  }),
);

Deno.test(
  "cmd: a POSIX command line is left to the server",
  inRoot(async (m) => {
    assert.deepEqual((await m.run(`chmod 0755 /tmp/x.sh`)).code, undefined);
    assert.deepEqual((await m.run(`PACKER_BUILD_NAME='x' /tmp/script.sh`)).code, undefined);
  }),
);

Deno.test(
  "shutdown: restart now, 1115 while under way, schedule/abort, 1116 without one",
  inRoot(async (m) => {
    const first = await m.run(`shutdown /r /f /t 0 /c "packer restart"`);
    assert.deepEqual([first.code, m.restarts], [0, [500]]);
    const again = await m.run(`shutdown /r /f /t 60 /c "packer restart test"`);
    assert.deepEqual(again.code, 1115);
    await new Promise((r) => setTimeout(r, 600));
    const scheduled = await m.run(`shutdown /r /f /t 60 /c "packer restart test"`);
    assert.deepEqual(scheduled.code, 0);
    assert.deepEqual((await m.run(`shutdown /r /t 60`)).code, 1190);
    assert.deepEqual((await m.run(`shutdown /a`)).code, 0);
    const none = await m.run(`shutdown /a`);
    assert.deepEqual(none.code, 1116);
    includes(none.stderr, "no shutdown was in progress");
    assert.deepEqual(m.restarts, [500], "the aborted restart never happened");
  }, { restartDownMs: 500 }),
);

const encoded = (script: string) =>
  `powershell -executionpolicy bypass -EncodedCommand ${encodePowerShell(script)}`;

Deno.test(
  "powershell: Packer's wrapper dot-sources the variables and exits with the script's code",
  inRoot(async (m) => {
    await m.write(
      "c:/Windows/Temp/vars.ps1",
      `$env:PACKER_BUILD_NAME="win"; $env:QUOTED="${escapePowerShell(`a "b" $c it's`)}"; `,
    );
    await m.write(
      "c:/Windows/Temp/script.ps1",
      `Write-Output "name=$env:PACKER_BUILD_NAME"\r\necho 'single $env:QUOTED'\r\nWrite-Host "q=$env:quoted"\r\nexit 4\r\n`,
    );
    const wrapper =
      `& { if (Test-Path variable:global:ProgressPreference){set-variable -name variable:global:ProgressPreference -value 'SilentlyContinue'};. c:/Windows/Temp/vars.ps1; &'c:/Windows/Temp/script.ps1'; exit $LastExitCode }`;
    const env = { KEEP: "1" };
    const r = await m.run(encoded(wrapper), env);
    assert.deepEqual(r.stdout, `name=win\r\nsingle $env:QUOTED\r\nq=a "b" $c it's\r\n`);
    assert.deepEqual(r.code, 4);
    assert.deepEqual(env, { KEEP: "1" }, "powershell's environment changes stay in its process");
    const quoted = await m.run(`powershell -executionpolicy bypass "${wrapper}"`);
    assert.deepEqual([quoted.code, quoted.stdout], [4, r.stdout]);
  }),
);

Deno.test(
  "powershell: a script without exit leaves $LastExitCode unset, so the wrapper exits 0",
  inRoot(async (m) => {
    await m.write("c:/s.ps1", "# a comment\nWrite-Output hello\n");
    await m.write("c:/v.ps1", "");
    const r = await m.run(encoded(`. 'c:/v.ps1'; & 'c:/s.ps1'; exit $LastExitCode`));
    assert.deepEqual([r.code, r.stdout], [0, "hello\r\n"]);
  }),
);

Deno.test(
  "powershell: the restart check, registry keys as directories, Restart-Computer",
  inRoot(async (m) => {
    const check =
      `$ProgressPreference = 'SilentlyContinue';echo ("{0} restarted." -f [System.Net.Dns]::GetHostName())`;
    const r = await m.run(`powershell.exe -EncodedCommand ${encodePowerShell(check)}`, {
      COMPUTERNAME: "WIN-1",
    });
    assert.deepEqual([r.code, r.stdout], [0, "WIN-1 restarted.\r\n"]);
    const key =
      `HKLM:SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending`;
    const test = `powershell.exe -EncodedCommand ${encodePowerShell(`Test-Path "${key}"`)}`;
    assert.deepEqual((await m.run(test)).stdout, "False\r\n");
    await Deno.mkdir(
      m.localPath(
        "C:/kiln-emulated-registry/HKLM/SOFTWARE/Microsoft/Windows/CurrentVersion/Component Based Servicing/RebootPending",
      ),
      { recursive: true },
    );
    assert.deepEqual((await m.run(test)).stdout, "True\r\n");
    await m.run(`powershell -command "& {Restart-Computer -Force}"`);
    assert.deepEqual(m.restarts.length, 1);
  }),
);

Deno.test(
  "powershell: cleanup script removes files; -File runs a script; Set-PsDebug traces",
  inRoot(async (m) => {
    await m.write("c:/a.ps1", "x");
    await m.write(
      "c:/clean.ps1",
      "if (Test-Path c:/a.ps1) {Remove-Item c:/a.ps1}\nif (Test-Path c:/gone.ps1) {Remove-Item c:/gone.ps1}\nif (Test-Path c:/clean.ps1) {Remove-Item c:/clean.ps1}\n",
    );
    const r = await m.run(`powershell -executionpolicy bypass -file "c:/clean.ps1"`);
    assert.deepEqual([r.code, r.stderr], [0, ""]);
    for (const p of ["c:/a.ps1", "c:/clean.ps1"]) {
      assert.ok(!(await Deno.stat(m.localPath(p)).then(() => true, () => false)), `${p} removed`);
    }
    await m.write("c:/t.ps1", "Write-Output 'one'\nexit 2\n");
    const traced = await m.run(encoded(`Set-PsDebug -Trace 1;&'c:/t.ps1'; exit $LastExitCode`));
    assert.deepEqual(traced.code, 2);
    assert.match(
      traced.stdout,
      /^DEBUG: +1\+ {2}>>>> &'c:\/t\.ps1'\r\nDEBUG: +1\+ {2}>>>> Write-Output 'one'\r\none\r\nDEBUG: +2\+ {2}>>>> exit 2\r\n/,
    );
  }),
);

Deno.test(
  "powershell: unsupported constructs fail with exit 1 and a clear stderr line",
  inRoot(async (m) => {
    for (
      const script of [
        `Get-ChildItem c:/`,
        `Write-Output $(1)`,
        `Get-Date | Out-File x`,
        `$x = 1 -eq 1`,
      ]
    ) {
      const r = await m.run(encoded(script));
      assert.deepEqual(r.code, 1, script);
      includes(r.stderr, "kiln's Windows emulator does not support", script);
    }
    const bad = await m.run(`powershell -Foo "x"`);
    assert.deepEqual(bad.code, 1);
    includes(bad.stderr, `option "-Foo"`);
  }),
);
