/**
 * `{{build ...}}` data as Packer 1.6.6 renders it, and the run's UUID:
 * one UUID v4 in build data, in the environment of local processes
 * (PACKER_RUN_UUID; a script on the machine does not get it, as with Packer
 * 1.6.6) and in the manifest's `packer_run_uuid`, kept by
 * `build --resume` because it belongs to the run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "../support/temp_dir.ts";
import { runKiln } from "../support/kiln_cli.ts";
import { generateKey, startSshd } from "../support/sshd.ts";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const KEYS = ["ID", "Host", "Port", "User", "ConnType", "PackerHTTPAddr", "PackerHTTPIP"]
  .concat(["PackerHTTPPort"]);

/** The line a shell-local provisioner prints: every build key, quoted so `<` stays text. */
const printKeys = `echo 'DATA ${KEYS.map((k) => `${k}={{build \`${k}\`}}`).join(" ")}'`;

function runIdOf(stderr: string): string {
  const m = /kiln: run (\S+) /.exec(stderr);
  assert.ok(m, `no run id announced on stderr:\n${stderr}`);
  return m[1];
}

Deno.test("null builder without a communicator: build data line for line as Packer 1.6.6 renders it", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "t.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        builders: [{ type: "null", communicator: "none" }],
        provisioners: [{
          type: "shell-local",
          inline: [printKeys, 'echo "UUID {{build `PackerRunUUID`}} ENV $PACKER_RUN_UUID"'],
        }],
      }),
    );
    const env = { PACKER_NO_COLOR: "1", CHECKPOINT_DISABLE: "1", HOME: dir };
    const [kiln, packer] = await Promise.all([
      runKiln(["build", file], { cwd: dir, home: join(dir, ".kiln") }),
      new Deno.Command("packer", { args: ["build", file], cwd: dir, env, stdin: "null" }).output(),
    ]);
    const packerOut = new TextDecoder().decode(packer.stdout);
    assert.equal(packer.code, 0, packerOut);
    assert.equal(kiln.code, 0, kiln.stdout + kiln.stderr);
    const line = (text: string) => /DATA .*/.exec(text)?.[0];
    // ID=Null, Host=<no value> ..., ERR_HTTP_*_NOT_IMPLEMENTED_BY_BUILDER: whatever 1.6.6 says.
    assert.equal(line(kiln.stdout), line(packerOut));
    assert.match(line(kiln.stdout) ?? "", /ID=Null Host=<no value>/);
    const uuid = /UUID (\S+) ENV (\S+)/.exec(kiln.stdout);
    assert.ok(uuid, kiln.stdout);
    assert.match(uuid[1], UUID_V4);
    assert.equal(uuid[2], uuid[1], "PACKER_RUN_UUID differs from {{build `PackerRunUUID`}}");
  });
});

Deno.test("the run's UUID: same in build data, remote and local env and manifest, and kept by --resume", async () => {
  await withTempDir(async (dir) => {
    const key = await generateKey(dir, "id");
    const sshd = await startSshd({ authorizedKeys: [key.publicKey] });
    try {
      await Deno.mkdir(join(dir, "out"));
      const gate = join(dir, "go");
      const file = join(dir, "t.json");
      await Deno.writeTextFile(
        file,
        JSON.stringify({
          builders: [{
            type: "null",
            ssh_host: sshd.host,
            ssh_port: sshd.port,
            ssh_username: sshd.user,
            ssh_private_key_file: key.privateKeyPath,
          }],
          provisioners: [
            { type: "shell", inline: ["echo REMOTE=$PACKER_RUN_UUID"] },
            {
              type: "shell-local",
              inline: [
                "echo LOCAL=$PACKER_RUN_UUID BUILD={{build `PackerRunUUID`}}",
                "echo CONN={{build `ConnType`}} {{build `User`}}@{{build `Host`}}:{{build `Port`}}",
                // Fails the first drive; the resumed drive finds the gate open.
                `test -e ${gate}`,
              ],
            },
          ],
          "post-processors": [{ type: "manifest", output: "out/m.json" }],
        }),
      );
      const home = join(dir, ".kiln");
      // Snapshots every few records: the resume folds from one, and the UUID must survive it.
      const env = { KILN_SNAPSHOT_EVERY: "3" };
      const first = await runKiln(["build", file], { cwd: dir, home, env });
      assert.equal(first.code, 1, first.stdout + first.stderr);
      const id = runIdOf(first.stderr);
      const uuid = /LOCAL=(\S+)/.exec(first.stdout)?.[1] ?? "";
      assert.match(uuid, UUID_V4, first.stdout);
      assert.match(first.stdout, new RegExp(`LOCAL=${uuid} BUILD=${uuid}`));
      // A script on the machine does not get it, as with Packer 1.6.6 (a local process does).
      assert.match(first.stdout, /REMOTE=\n/);
      assert.match(first.stdout, new RegExp(`CONN=ssh ${sshd.user}@127\\.0\\.0\\.1:${sshd.port}`));

      await Deno.writeTextFile(gate, "");
      const resumed = await runKiln(["build", "--resume", id], { cwd: dir, home, env });
      assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
      assert.match(resumed.stdout, new RegExp(`LOCAL=${uuid} BUILD=${uuid}`));
      const manifest = JSON.parse(await Deno.readTextFile(join(dir, "out", "m.json")));
      assert.equal(manifest.last_run_uuid, uuid);
      assert.deepEqual(manifest.builds.map((b: { packer_run_uuid: string }) => b.packer_run_uuid), [
        uuid,
      ]);
    } finally {
      await sshd.stop();
    }
  });
});
