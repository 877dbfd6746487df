/**
 * Remote output reaches kiln's stdout while the command runs, not when it
 * ends: a real `kiln build` against a real sshd, the `shell` provisioner
 * printing a line, sleeping, then printing another.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { generateKey, startSshd } from "../support/sshd.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { watchKiln } from "../support/kiln_process.ts";

Deno.test("shell over SSH: a line shows on kiln's stdout before the command ends", async () => {
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
          type: "shell",
          inline: ["echo kiln-first-line", "sleep 3", "echo kiln-second-line"],
        }],
      };
      await Deno.writeTextFile(join(dir, "t.json"), JSON.stringify(template));
      const kiln = watchKiln(["build", "t.json"], { cwd: dir, home: join(dir, "home") });
      await kiln.waitFor(/kiln-first-line/);
      // The remote shell is still sleeping: its next line cannot be there yet.
      assert.doesNotMatch(kiln.output(), /kiln-second-line/);
      const status = await kiln.done();
      assert.equal(status.code, 0, kiln.output());
      assert.match(kiln.output(), /kiln-first-line[\s\S]*kiln-second-line/);
    } finally {
      await sshd.stop();
    }
  });
});
