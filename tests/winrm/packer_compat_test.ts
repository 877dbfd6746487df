/**
 * Packer 1.6.6 in the loop over WinRM: its own WinRM client (masterzen/winrm,
 * winrmcp uploads, Basic and NTLM) drives the project's test listener through
 * windows-shell, powershell and file provisioners, and the same template
 * through kiln must leave the same files, byte for byte, and print the same
 * provisioner lines. The first tests pin the emulation of Packer's own
 * command lines (cmd.exe redirection, winrmcp's restore and cleanup scripts)
 * and run without Packer; the differential tests are skipped when `packer`
 * is not installed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { havePacker, listTree, packerBuild, sha256File } from "../ssh/helpers.ts";
import { runKiln } from "../support/kiln_cli.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { writeRandomFile } from "../support/random_file.ts";
import { startWinrmServer } from "../support/winrm/server.ts";
import { nullWinrmBuilder } from "../support/winrm/template.ts";
import type { EmulatedIo } from "../support/winrm/emulation.ts";
import { createWindowsEmulator } from "../support/winrm/windows_commands.ts";
import { localPath, windowsEnvironment } from "../support/winrm/paths.ts";
import {
  runWinrmcpSnippet,
  winrmcpCleanupScript,
  winrmcpRestoreScript,
} from "../support/winrm/winrmcp_emulation.ts";

const packerInstalled = await havePacker();
const PASSWORD = "Pa55-w0rd-not-the-user";

/** Runs one command line through the Windows emulator on a machine rooted at `root`. */
async function emulate(root: string, line: string) {
  let stdout = "";
  let stderr = "";
  const env = windowsEnvironment("vagrant");
  const io: EmulatedIo = {
    localPath: (p) => localPath(root, p, env),
    env,
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    restart: () => {},
    signal: new AbortController().signal,
  };
  const code = await createWindowsEmulator()(line, io);
  return { code, stdout, stderr };
}

Deno.test("cmd redirection: > truncates, >> appends with echo's trailing space, 2> and nul", () =>
  withTempDir(async (root) => {
    await Deno.mkdir(`${root}/C/Windows/Temp`, { recursive: true });
    const file = `${root}/C/Windows/Temp/out.txt`;
    assert.equal((await emulate(root, `echo one > "%TEMP%\\out.txt"`)).code, 0);
    assert.equal((await emulate(root, `echo two>>%TEMP%\\out.txt`)).code, 0);
    assert.equal(await Deno.readTextFile(file), "one \r\ntwo\r\n");
    const quiet = await emulate(root, `echo hidden >nul && echo shown`);
    assert.deepEqual([quiet.code, quiet.stdout], [0, "shown\r\n"]);
    const errs = await emulate(root, `cmd /c exit 3 2> c:\\Windows\\Temp\\err.txt || echo failed`);
    // echo leaves ERRORLEVEL alone, as in cmd.exe.
    assert.deepEqual([errs.code, errs.stdout], [3, "failed\r\n"]);
    assert.equal(await Deno.readTextFile(`${root}/C/Windows/Temp/err.txt`), "");
    const missing = await emulate(root, `echo x > C:\\no\\such\\dir\\f.txt`);
    assert.deepEqual(
      [missing.code, missing.stderr],
      [1, "The system cannot find the path specified.\r\n"],
    );
    const dup = await emulate(root, `echo x > f.txt 2>&1`);
    assert.equal(dup.code, 9009);
    assert.match(dup.stderr, /does not support redirection without a file \(>&1\)/);
  }, "kiln-winrm-redirect-"));

Deno.test("winrmcp restore: cmd-appended base64 lines become the file; errors as on Windows", () =>
  withTempDir(async (root) => {
    const env = windowsEnvironment("vagrant");
    let stderr = "";
    const io = {
      localPath: (p: string) => localPath(root, p, env),
      stderr: (t: string) => void (stderr += t),
    };
    await Deno.mkdir(`${root}/C/Windows/Temp`, { recursive: true });
    const data = crypto.getRandomValues(new Uint8Array(10_000));
    // winrmcp's chunking: whole 3-byte groups per line, each appended by cmd's echo.
    for (let at = 0; at < data.length; at += 4497) {
      const b64 = btoa(String.fromCharCode(...data.subarray(at, at + 4497)));
      assert.equal((await emulate(root, `echo ${b64} >> "%TEMP%\\winrmcp-1.tmp"`)).code, 0);
    }
    const tmp = "$env:TEMP\\winrmcp-1.tmp";
    const dest = "C:\\deep\\dir\\file.bin";
    assert.equal(await runWinrmcpSnippet(winrmcpRestoreScript(tmp, dest), io), 0);
    assert.deepEqual(await Deno.readFile(`${root}/C/deep/dir/file.bin`), data);
    // No chunk ever written (an empty source): an empty destination.
    assert.equal(
      await runWinrmcpSnippet(winrmcpRestoreScript("$env:TEMP\\none.tmp", "c:/e.txt"), io),
      0,
    );
    assert.equal((await Deno.readFile(`${root}/C/e.txt`)).length, 0);
    // A directory in the way: winrmcp's `Exit 1`.
    assert.equal(await runWinrmcpSnippet(winrmcpRestoreScript(tmp, "C:\\deep"), io), 1);
    // A line that is not base64: reported, and the previous bytes written again, as the script does.
    await Deno.writeTextFile(`${root}/C/Windows/Temp/bad.tmp`, "QUJD \r\n!!!! \r\nREVG \r\n");
    assert.equal(
      await runWinrmcpSnippet(winrmcpRestoreScript("$env:TEMP\\bad.tmp", "c:/bad.txt"), io),
      1,
    );
    assert.equal(await Deno.readTextFile(`${root}/C/bad.txt`), "ABCABCDEF");
    assert.match(stderr, /not a valid Base-64 string/);
    // The cleanup script removes the temporary file.
    assert.equal(await runWinrmcpSnippet(winrmcpCleanupScript(tmp), io), 0);
    await assert.rejects(Deno.stat(`${root}/C/Windows/Temp/winrmcp-1.tmp`), Deno.errors.NotFound);
    // Anything but winrmcp's exact text is left to the PowerShell subset emulator.
    assert.equal(
      runWinrmcpSnippet(winrmcpRestoreScript(tmp, dest).replace("rm ", "del "), io),
      undefined,
    );
  }, "kiln-winrmcp-"));

/**
 * The provisioners both tools run: cmd, a batch file, PowerShell (inline,
 * kept), uploads; with `restart`, also a windows-restart and a traced
 * PowerShell script after it.
 */
function provisioners(dir: string, restart: boolean) {
  const restartAndTrace = [
    { type: "windows-restart", restart_timeout: "2m" },
    { type: "powershell", script: join(dir, "p.ps1"), debug_mode: 1 },
  ];
  return [
    ...(restart ? restartAndTrace : []),
    { type: "windows-shell", script: join(dir, "s.bat"), environment_vars: ["GREETING=script"] },
    {
      type: "windows-shell",
      inline: ["echo hello from cmd", "echo %GREETING%> C:\\Windows\\Temp\\from-cmd.txt"],
      environment_vars: ["GREETING=hi there"],
    },
    {
      type: "powershell",
      inline: [
        'Write-Output "builder $env:PACKER_BUILDER_TYPE [$env:FOO]"',
        "Write-Host 'from Write-Host'",
        "exit 3",
      ],
      environment_vars: ['FOO=it\'s "q" $x `t'],
      valid_exit_codes: [0, 3],
      // Kept at fixed paths so the generated script and variables file are compared too.
      skip_clean: true,
      remote_path: "C:/Windows/Temp/ps-inline.ps1",
      remote_env_var_path: "C:/Windows/Temp/ps-env.ps1",
    },
    { type: "powershell", inline: ["Write-Output 'cleaned up after'"] },
    { type: "file", source: join(dir, "rand.bin"), destination: "C:\\data\\rand.bin" },
    { type: "file", source: join(dir, "empty.txt"), destination: "C:\\data\\empty.txt" },
    { type: "file", source: join(dir, "s.bat"), destination: "C:/data/sub/" },
    { type: "file", source: join(dir, "tree"), destination: "C:\\data\\tree" },
  ];
}

async function writeInputs(dir: string): Promise<void> {
  await writeRandomFile(join(dir, "rand.bin"), 1);
  await Deno.writeTextFile(join(dir, "empty.txt"), "");
  await Deno.writeTextFile(
    join(dir, "s.bat"),
    "@echo off\r\necho script says %GREETING%\r\nexit /b 0\r\n",
  );
  await Deno.mkdir(join(dir, "tree", "sub"), { recursive: true });
  await Deno.writeTextFile(join(dir, "tree", "a.txt"), "a\n");
  await Deno.writeTextFile(join(dir, "tree", "sub", "b.txt"), "b\r\n");
  await Deno.writeTextFile(
    join(dir, "p.ps1"),
    'Write-Output "build $env:PACKER_BUILD_NAME"\r\n$x = "y"\r\nWrite-Output $x\r\n',
  );
}

/**
 * The lines a user compares: the build's `null:` lines, with the local temp
 * path of inline scripts and the UUIDs in remote file names (each tool picks
 * its own) and trailing blanks normalised.
 */
function provisionerLines(output: string): string[] {
  return output.split("\n")
    .filter((l) => /^(==> | {4})null:/.test(l))
    .map((l) =>
      l.trimEnd()
        .replace(/\S*\/(windows-shell|powershell)-provisioner\d+/, "<inline $1 script>")
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>")
    );
}

/** Every file and directory the build left on the machine, files with their SHA-256. */
async function remoteEffects(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await listTree(root)) {
    out.push(entry.endsWith("/") ? entry : `${entry} ${await sha256File(join(root, entry))}`);
  }
  return out;
}

/** Builds the template with `tool` against a fresh listener that accepts only `auth`. */
async function buildWith(
  tool: "packer" | "kiln",
  dir: string,
  auth: "basic" | "ntlm",
  restart: boolean,
) {
  const logged: string[] = [];
  const server = await startWinrmServer({
    password: PASSWORD,
    auth: [auth],
    log: (entry) => void logged.push(entry),
  });
  try {
    const template = {
      builders: [
        nullWinrmBuilder(server, { winrm_use_ntlm: auth === "ntlm", winrm_timeout: "2m" }),
      ],
      provisioners: provisioners(dir, restart),
    };
    const file = join(dir, `${tool}.json`);
    await Deno.writeTextFile(file, JSON.stringify(template, null, 2));
    let output: string;
    if (tool === "packer") {
      const out = await packerBuild(file, dir);
      assert.ok(out.success, `packer build failed:\n${out.stdout}`);
      output = out.stdout;
    } else {
      const out = await runKiln(["build", file], { cwd: dir, home: join(dir, ".kiln") });
      output = out.stdout + out.stderr;
      assert.equal(out.code, 0, `kiln build failed:\n${output}`);
    }
    assert.ok(!output.includes(PASSWORD), `${tool} printed the password`);
    return {
      lines: provisionerLines(output),
      effects: await remoteEffects(server.root),
      commands: server.stats.commands,
      logged,
    };
  } finally {
    await server.stop();
  }
}

for (const auth of ["basic", "ntlm"] as const) {
  // The restart costs Packer's fixed 5 s polls: once is enough.
  const restart = auth === "basic";
  Deno.test({
    name: `Packer 1.6.6 and kiln over WinRM (${auth}${restart ? ", with a restart" : ""}): ` +
      "same files on the machine, same output",
    ignore: !packerInstalled,
    fn: () =>
      withTempDir(async (dir) => {
        await writeInputs(dir);
        const packer = await buildWith("packer", dir, auth, restart);
        const kiln = await buildWith("kiln", dir, auth, restart);

        // Packer really went through winrmcp: chunks echoed through cmd, then restored.
        assert.ok(
          packer.commands.filter((c) => /^echo \S+ >> "%TEMP%\\winrmcp-/.test(c)).length > 100,
          "Packer uploaded through winrmcp's cmd echo chunks",
        );
        // The server's command log shows what Packer sent, its encoded scripts decoded.
        assert.ok(
          packer.logged.some((e) =>
            /decoded: .*\n.*\$tmp_file_path = \[System\.IO\.Path\]/.test(e)
          ),
          "winrmcp's restore script in the command log",
        );
        assert.deepEqual(kiln.effects, packer.effects);
        assert.deepEqual(kiln.lines, packer.lines);

        // The comparison is not vacuous: the uploads, the redirected echo and the
        // generated PowerShell are all there.
        const effects = packer.effects.join("\n");
        for (
          const path of [
            "C/data/rand.bin ",
            "C/data/empty.txt e3b0c442",
            "C/data/sub/s.bat ",
            "C/data/tree/tree/sub/b.txt ",
            "C/Windows/Temp/from-cmd.txt ",
            "C/Windows/Temp/ps-inline.ps1 ",
            "C/Windows/Temp/ps-env.ps1 ",
          ]
        ) assert.ok(effects.includes(path), `${path} in\n${effects}`);
        assert.ok(!/winrmcp|script-.*\.ps1|packer-cleanup/.test(effects), effects);
        for (
          const line of [
            "    null: hello from cmd",
            "    null: script says script",
            `    null: builder null [it's "q" $x \`t]`,
            "    null: from Write-Host",
            "    null: cleaned up after",
            `==> null: Uploading ${join(dir, "tree")} => C:\\data\\tree`,
          ]
        ) assert.ok(kiln.lines.includes(line), `${line} in\n${kiln.lines.join("\n")}`);
        if (restart) {
          for (
            const line of [
              "    null: KILN-WINRM restarted.",
              "    null: DEBUG:    3+  >>>> Write-Output $x",
              "    null: build null",
            ]
          ) assert.ok(kiln.lines.includes(line), `${line} in\n${kiln.lines.join("\n")}`);
        }
      }, "kiln-packer-winrm-"),
  });
}
