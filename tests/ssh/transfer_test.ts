/**
 * File transfer over scp and sftp: large files, trees, downloads, errors.
 * The scp method runs twice: over SFTP (the sshd offers the subsystem) and
 * over the legacy scp protocol (it does not).
 */
import { writeRandomFile } from "../support/random_file.ts";
import assert from "node:assert/strict";
import { listTree, sha256File, startLab } from "./helpers.ts";

const VARIANTS = [
  { name: "scp", method: "scp", sftp: true },
  { name: "scp (legacy: no sftp subsystem)", method: "scp", sftp: false },
  { name: "sftp", method: "sftp", sftp: true },
] as const;

for (const { name, method, sftp } of VARIANTS) {
  Deno.test(`${name}: a 64 MiB file goes up and comes back intact`, async () => {
    const lab = await startLab({ sftp });
    const comm = await lab.connect({ ssh_file_transfer_method: method });
    try {
      const src = `${lab.dir}/big.bin`;
      await writeRandomFile(src, 64);
      const input = await Deno.open(src, { read: true });
      // Stream of unknown length: scp has to spool it to learn the size.
      await comm.upload(`${lab.dir}/remote.bin`, input.readable);
      assert.equal(await sha256File(`${lab.dir}/remote.bin`), await sha256File(src));
      const out = await Deno.open(`${lab.dir}/back.bin`, { write: true, create: true });
      await comm.download(`${lab.dir}/remote.bin`, out.writable);
      assert.equal(await sha256File(`${lab.dir}/back.bin`), await sha256File(src));
    } finally {
      await comm.close();
      await lab.dispose();
    }
  });

  Deno.test(`${name}: directory trees follow rsync's trailing-slash rule`, async () => {
    const lab = await startLab({ sftp });
    const comm = await lab.connect({ ssh_file_transfer_method: method });
    try {
      const src = `${lab.dir}/tree`;
      await Deno.mkdir(`${src}/a/b`, { recursive: true });
      await Deno.mkdir(`${src}/empty`);
      for (let i = 0; i < 50; i++) await Deno.writeTextFile(`${src}/a/b/f${i}.txt`, `file ${i}\n`);
      await Deno.writeTextFile(`${src}/top.sh`, "#!/bin/sh\n");
      await Deno.chmod(`${src}/top.sh`, 0o755);
      await Deno.symlink(`${src}/top.sh`, `${src}/link.sh`);
      await Deno.mkdir(`${lab.dir}/with`);
      await Deno.mkdir(`${lab.dir}/without`);
      await comm.uploadDir(`${lab.dir}/with`, src);
      await comm.uploadDir(`${lab.dir}/without`, `${src}/`);
      const expected = await listTree(src);
      assert.deepEqual(await listTree(`${lab.dir}/with/tree`), expected);
      assert.deepEqual(await listTree(`${lab.dir}/without`), expected);
      assert.equal(await Deno.readTextFile(`${lab.dir}/without/a/b/f7.txt`), "file 7\n");
      assert.equal((await Deno.stat(`${lab.dir}/without/top.sh`)).mode! & 0o777, 0o755);
      const link = await Deno.lstat(`${lab.dir}/without/link.sh`);
      assert.ok(link.isFile && !link.isSymlink, "symlinks arrive as regular files");

      await comm.downloadDir(`${lab.dir}/without/a/`, `${lab.dir}/down`);
      // Packer's DownloadDir recreates the directory itself inside the destination.
      assert.deepEqual(
        await listTree(`${lab.dir}/down`),
        expected.filter((p) => p.startsWith("a/")),
      );
    } finally {
      await comm.close();
      await lab.dispose();
    }
  });

  Deno.test(`${name}: a missing remote file or unwritable destination is a clear error`, async () => {
    const lab = await startLab({ sftp });
    const comm = await lab.connect({ ssh_file_transfer_method: method });
    try {
      const out = await Deno.open(`${lab.dir}/x`, { write: true, create: true });
      const missing = `${lab.dir}/does-not-exist`;
      const bytes = new TextEncoder().encode("x");
      if (method === "sftp") {
        await assert.rejects(comm.download(missing, out.writable), /does-not-exist|No such file/i);
        await assert.rejects(comm.upload(`${lab.dir}/no/such/dir/file`, bytes), /No such file/i);
        return;
      }
      // Whichever protocol carries it, the scp method words failures as scp does.
      await assert.rejects(comm.download(missing, out.writable), {
        message: `scp from ${missing}: scp: ${missing}: No such file or directory`,
      });
      await assert.rejects(
        comm.upload(`${lab.dir}/no/such/dir/file`, bytes),
        new RegExp(
          `^Error: scp to ${lab.dir}/no/such/dir/file: scp: ${lab.dir}/no/\\S*: No such file or directory$`,
        ),
      );
      await Deno.mkdir(`${lab.dir}/a-dir`);
      await assert.rejects(comm.upload(`${lab.dir}/a-dir`, bytes), {
        message: `scp to ${lab.dir}/a-dir: scp: ${lab.dir}/a-dir: Is a directory`,
      });
    } finally {
      await comm.close();
      await lab.dispose();
    }
  });
}

for (const { name, method, sftp } of VARIANTS) {
  Deno.test(`${name}: a disconnect mid-upload is a clear error, and the next upload reconnects`, async () => {
    const lab = await startLab({ sftp });
    const comm = await lab.connect({ ssh_file_transfer_method: method });
    try {
      let sent = 0;
      let stopped: Promise<void> | undefined;
      const chunk = new Uint8Array(1 << 20);
      const source = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (++sent === 8) await (stopped = lab.sshd.stop()); // the machine goes away mid-transfer
          controller.enqueue(chunk);
        },
      });
      await assert.rejects(
        comm.upload(`${lab.dir}/partial.bin`, source, { size: 64 << 20 }),
        /connection (was )?lost|closed the channel/,
      );
      await stopped;
      await lab.sshd.start();
      await comm.upload(`${lab.dir}/after.txt`, new TextEncoder().encode("again"));
      assert.equal(await Deno.readTextFile(`${lab.dir}/after.txt`), "again");
    } finally {
      await comm.close();
      await lab.dispose();
    }
  });
}
