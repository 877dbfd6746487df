/**
 * The scp transfer method speaks SFTP where sshd offers the subsystem, as
 * OpenSSH 9's scp does: no login shell starts per transfer (a slow ~/.bashrc
 * costs nothing), the results are the legacy protocol's (contents, modes,
 * trees), and a server without SFTP still gets its files over legacy scp.
 * The sftp method stays SFTP only. Uploads stream: the source is never
 * further ahead of what has landed remotely than the transfer's window.
 */
import assert from "node:assert/strict";
import { ensurePasswordUser, startSshd } from "../support/sshd.ts";
import { openSsh } from "../../communicators/ssh.ts";
import type { Communicator } from "../../communicators/communicator.ts";
import { listTree, sha256File, startLab } from "./helpers.ts";

const USER = "kilnsftp";
const PASSWORD = crypto.randomUUID();
const HOME = `/home/${USER}`;

/** A bash user whose ~/.bashrc leaves a mark each time a shell reads it. */
async function bashUser(): Promise<void> {
  await ensurePasswordUser(USER, PASSWORD);
  const usermod = await new Deno.Command("usermod", { args: ["-s", "/bin/bash", USER] }).output();
  assert.ok(usermod.success, "usermod -s /bin/bash");
  await Deno.writeTextFile(`${HOME}/.bashrc`, 'echo "$$" >> "$HOME/bashrc-reads"\n');
}

async function bashrcReads(): Promise<number> {
  try {
    return (await Deno.readTextFile(`${HOME}/bashrc-reads`)).split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
}

async function modes(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const rel of await listTree(root)) {
    const mode = (await Deno.stat(`${root}/${rel}`)).mode! & 0o777;
    out.push(`${rel} ${mode.toString(8)}`);
  }
  return out;
}

/**
 * Uploads a file (with a mode), a stream of unknown length and a tree into
 * `${HOME}/<name>` as the bash user, downloads the file back; returns what
 * landed (paths with modes) and how many times ~/.bashrc was read meanwhile.
 */
async function transferAs(name: string, sftp: boolean, src: string) {
  // SHLVL=0: bash takes itself for the shell sshd started and reads ~/.bashrc,
  // as on a stock host (the test sshd's usual SHLVL=1 spares tests that cost).
  const sshd = await startSshd({ passwordAuth: true, sftp, env: { SHLVL: "0" } });
  const dst = `${HOME}/${name}`;
  await Deno.remove(dst, { recursive: true }).catch(() => {});
  await Deno.remove(`${HOME}/bashrc-reads`).catch(() => {});
  let comm: Communicator | undefined;
  try {
    comm = await openSsh({
      config: { ssh_username: USER, ssh_password: PASSWORD, ssh_timeout: 5000 },
      target: { host: "127.0.0.1", port: sshd.port },
      signal: new AbortController().signal,
    });
    const before = await bashrcReads();
    await Deno.mkdir(dst);
    await Deno.chown(dst, (await Deno.stat(HOME)).uid, null);
    const script = await Deno.readFile(`${src}/run.sh`);
    await comm.upload(`${dst}/run.sh`, script, { mode: 0o750 });
    await comm.upload(`${dst}/streamed.txt`, (await Deno.open(`${src}/conf/app.conf`)).readable);
    await comm.uploadDir(dst, `${src}/conf`);
    const back = await Deno.makeTempFile();
    await comm.download(`${dst}/run.sh`, (await Deno.open(back, { write: true })).writable);
    assert.equal(await sha256File(back), await sha256File(`${src}/run.sh`));
    await Deno.remove(back);
    return { landed: await modes(dst), shells: await bashrcReads() - before };
  } finally {
    await comm?.close();
    await sshd.stop();
    await Deno.remove(sshd.dir, { recursive: true }).catch(() => {});
    await Deno.remove(dst, { recursive: true }).catch(() => {});
  }
}

Deno.test("scp method: SFTP starts no login shell, legacy scp (no subsystem) lands the same files", async () => {
  await bashUser();
  const src = await Deno.makeTempDir({ prefix: "kiln-scp-sftp-" });
  try {
    await Deno.writeTextFile(`${src}/run.sh`, "#!/bin/sh\necho hi\n".repeat(1000));
    await Deno.mkdir(`${src}/conf/sub`, { recursive: true });
    await Deno.writeTextFile(`${src}/conf/app.conf`, "x=1\n");
    await Deno.writeTextFile(`${src}/conf/sub/hook.sh`, "#!/bin/sh\n");
    await Deno.chmod(`${src}/conf/sub/hook.sh`, 0o755);
    await Deno.chmod(`${src}/conf/sub`, 0o750);

    const overSftp = await transferAs("over-sftp", true, src);
    const legacy = await transferAs("legacy", false, src);

    assert.equal(overSftp.shells, 0, "no shell started for four SFTP transfers");
    assert.ok(legacy.shells >= 4, `legacy scp starts a shell per transfer (${legacy.shells})`);
    assert.deepEqual(overSftp.landed, legacy.landed);
    assert.deepEqual(overSftp.landed, [
      "conf/ 755",
      "conf/app.conf 644",
      "conf/sub/ 750",
      "conf/sub/hook.sh 755",
      "run.sh 750",
      "streamed.txt 644",
    ]);
  } finally {
    await Deno.remove(src, { recursive: true });
  }
});

Deno.test("sftp method: a server without the sftp subsystem is a clear error, not a silent fallback", async () => {
  const lab = await startLab({ sftp: false });
  try {
    const comm = await lab.connect({ ssh_file_transfer_method: "sftp" });
    try {
      await assert.rejects(
        comm.upload(`${lab.dir}/x`, new TextEncoder().encode("x")),
        { message: "sftp subsystem: Unable to start subsystem: sftp" },
      );
      await assert.rejects(Deno.stat(`${lab.dir}/x`), Deno.errors.NotFound);
    } finally {
      await comm.close();
    }
  } finally {
    await lab.dispose();
  }
});

for (const sftp of [true, false]) {
  Deno.test(`scp method (${sftp ? "SFTP" : "legacy scp"}): a 128 MiB upload streams, never far ahead of the remote file`, async () => {
    const lab = await startLab({ sftp });
    const comm = await lab.connect();
    try {
      const remote = `${lab.dir}/streamed.bin`;
      const total = 128 << 20;
      const chunk = new Uint8Array(256 << 10).fill(7);
      let produced = 0;
      let worstLead = 0;
      // A generated source: it exists nowhere whole, and each pull measures how
      // far it runs ahead of the bytes sshd has written (buffering = lead).
      const source = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (produced >= total) return controller.close();
          const landed = await Deno.stat(remote).then((s) => s.size, () => 0);
          worstLead = Math.max(worstLead, produced - landed);
          produced += chunk.length;
          controller.enqueue(chunk.slice());
        },
      }, { highWaterMark: 0 });
      // Over SFTP the size is not needed (nothing is spooled to learn it).
      await comm.upload(remote, source, sftp ? {} : { size: total });
      assert.equal((await Deno.stat(remote)).size, total);
      assert.ok(
        worstLead < 16 << 20,
        `the source ran ${(worstLead / (1 << 20)).toFixed(1)} MiB ahead of the remote file`,
      );
    } finally {
      await comm.close();
      await lab.dispose();
    }
  });
}
