import assert from "node:assert/strict";
import { join } from "node:path";
import { generateKey, startSshd } from "../support/sshd.ts";
import { withTempDir } from "./support.ts";
import { runKiln } from "../support/kiln_cli.ts";

Deno.test("null builder connects over SSH and hands build data to shell-local", async () => {
  await withTempDir(async (dir) => {
    const key = await generateKey(dir, "id");
    const sshd = await startSshd({ authorizedKeys: [key.publicKey] });
    try {
      const template = {
        builders: [{
          type: "null",
          ssh_host: sshd.host,
          ssh_port: sshd.port,
          ssh_username: sshd.user,
          ssh_private_key_file: key.privateKeyPath,
        }],
        provisioners: [{
          type: "shell-local",
          environment_vars: [
            "TARGET={{build `Host`}}:{{build `Port`}}",
            "USER_NAME={{build `User`}}",
            "CONN={{build `ConnType`}}",
          ],
          inline: [`echo "$CONN $TARGET $USER_NAME" > ${join(dir, "seen")}`],
        }],
      };
      const file = join(dir, "t.json");
      await Deno.writeTextFile(file, JSON.stringify(template));
      const out = await runKiln(["build", file], { cwd: dir, home: join(dir, ".kiln") });
      const text = out.stdout + out.stderr;
      assert.equal(out.code, 0, text);
      assert.equal(
        await Deno.readTextFile(join(dir, "seen")),
        `ssh ${sshd.host}:${sshd.port} ${sshd.user}\n`,
      );
      assert.match(text, /Did not export anything\. This is the null builder/);
    } finally {
      await sshd.stop();
    }
  });
});
