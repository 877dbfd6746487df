/**
 * A whole `kiln build` of a null-builder template over WinRM, through the
 * CLI: the file provisioner uploads over it, build data reaches
 * provisioners, and the password appears neither in the output nor in the
 * run's event log.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runKiln } from "../support/kiln_cli.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { startWinrmServer } from "../support/winrm/server.ts";
import { writeRandomFile } from "../support/random_file.ts";

const PASSWORD = "S3cret-WinRM-pa55";

Deno.test("null builder builds over WinRM with the file provisioner, password masked", async () => {
  await withTempDir(async (dir) => {
    const s = await startWinrmServer({ password: PASSWORD });
    try {
      await writeRandomFile(join(dir, "payload.bin"), 2);
      await Deno.mkdir(join(dir, "conf"));
      await Deno.writeTextFile(join(dir, "conf", "app.ini"), "[app]\nname=kiln\n");
      const template = {
        builders: [{
          type: "null",
          communicator: "winrm",
          winrm_host: s.host,
          winrm_port: s.port,
          winrm_username: s.username,
          winrm_password: PASSWORD,
          winrm_use_ntlm: true,
          winrm_timeout: "1m",
        }],
        provisioners: [
          { type: "file", source: join(dir, "payload.bin"), destination: "C:\\Windows\\Temp\\" },
          { type: "file", source: join(dir, "conf"), destination: "C:\\app" },
          {
            type: "file",
            content: "{{build `ConnType`}} {{build `User`}}@{{build `Host`}}:{{build `Port`}}",
            destination: "C:\\app\\who.txt",
          },
          {
            type: "file",
            direction: "download",
            source: "C:\\app\\who.txt",
            destination: join(dir, "who.txt"),
          },
          {
            type: "shell-local",
            inline: [`echo "{{build \`Password\`}}|{{build \`WinRMPassword\`}}" > ${dir}/pw`],
          },
        ],
      };
      const file = join(dir, "t.json");
      await Deno.writeTextFile(file, JSON.stringify(template));
      const home = join(dir, ".kiln");
      const out = await runKiln(["build", file], { cwd: dir, home });
      const text = out.stdout + out.stderr;
      assert.equal(out.code, 0, text);
      assert.match(text, /Using winrm communicator to connect: 127\.0\.0\.1/);
      assert.match(text, /Connected to WinRM!/);

      const root = `${s.root}/C`;
      assert.deepEqual(
        await Deno.readFile(`${root}/Windows/Temp/payload.bin`),
        await Deno.readFile(join(dir, "payload.bin")),
      );
      assert.equal(await Deno.readTextFile(`${root}/app/conf/app.ini`), "[app]\nname=kiln\n");
      assert.equal(
        await Deno.readTextFile(join(dir, "who.txt")),
        `winrm ${s.username}@127.0.0.1:${s.port}`,
      );
      // Build data carries the password to provisioners that ask for it...
      assert.equal(await Deno.readTextFile(join(dir, "pw")), `${PASSWORD}|${PASSWORD}\n`);
      // ...but it is never printed or logged.
      assert.ok(!text.includes(PASSWORD), "password printed");
      const runs = [...Deno.readDirSync(join(home, "runs"))];
      assert.equal(runs.length, 1);
      const log = await Deno.readTextFile(join(home, "runs", runs[0].name, "events.jsonl"));
      assert.ok(!log.includes(PASSWORD), "password in events.jsonl");
      const events = log.trim().split("\n").map((l) => JSON.parse(l));
      const connected = events.find((e) => e.type === "CommunicatorConnected");
      assert.deepEqual(
        { type: connected.data.type, user: connected.data.user, port: connected.data.port },
        { type: "winrm", user: s.username, port: s.port },
      );
      const progress = events.filter((e) => e.type === "FileTransferProgress");
      assert.ok(progress.length >= 4, `${progress.length} progress events`);
      assert.ok(progress.some((e) => e.data.bytes === 2 << 20 && e.data.total === 2 << 20));
    } finally {
      await s.stop();
    }
  });
});
