/**
 * File transfer over kiln's WinRM communicator: a 16 MiB file up and down
 * with checksums, directories with Packer's trailing-slash rule, progress
 * per chunk, the envelope-size fallback for old listeners, and clear errors.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { openWinrm } from "../../communicators/winrm.ts";
import { powershellThenSh } from "../support/winrm/sh_fallback.ts";
import { startWinrmServer, type WinrmServer } from "../support/winrm/server.ts";
import { writeRandomFile } from "../support/random_file.ts";
import { withTempDir } from "../support/temp_dir.ts";

async function sha256File(path: string): Promise<string> {
  return Buffer.from(await crypto.subtle.digest("SHA-256", await Deno.readFile(path)))
    .toString("hex");
}

async function withComm(
  options: Parameters<typeof startWinrmServer>[0],
  fn: (comm: Awaited<ReturnType<typeof openWinrm>>, s: WinrmServer, dir: string) => Promise<void>,
) {
  await withTempDir(async (dir) => {
    const s = await startWinrmServer({ emulator: powershellThenSh, ...options });
    try {
      const comm = await openWinrm({
        config: { winrm_username: s.username, winrm_password: s.password, winrm_use_ntlm: true },
        target: { host: s.host, port: s.port },
        signal: new AbortController().signal,
      });
      try {
        await fn(comm, s, dir);
      } finally {
        await comm.close();
      }
    } finally {
      await s.stop();
    }
  });
}

Deno.test("winrm: a 16 MiB file goes up and comes back byte for byte", async () => {
  await withComm({}, async (comm, s, dir) => {
    const src = `${dir}/big.bin`;
    await writeRandomFile(src, 16);
    const progress: [number, number | undefined][] = [];
    const file = await Deno.open(src, { read: true });
    await comm.upload("C:\\Windows\\Temp\\big.bin", file.readable, {
      size: 16 << 20,
      progress: (sent, total) => progress.push([sent, total]),
    });
    const remote = `${s.root}/C/Windows/Temp/big.bin`;
    assert.equal(await sha256File(remote), await sha256File(src));
    // One event per Send, bytes growing to the total; 500 KB envelopes mean few round trips.
    assert.ok(progress.length >= 40 && progress.length <= 80, `${progress.length} chunks`);
    assert.deepEqual(progress.at(-1), [16 << 20, 16 << 20]);
    assert.ok(progress.every(([a], i) => i === 0 || a >= progress[i - 1][0]));
    assert.equal(s.stats.actions.Create, 1);
    assert.ok(s.stats.largestRequest > 400_000 && s.stats.largestRequest <= 512_000);

    const back = `${dir}/back.bin`;
    const out = await Deno.open(back, { write: true, create: true, truncate: true });
    await comm.download("C:/Windows/Temp/big.bin", out.writable);
    assert.equal(await sha256File(back), await sha256File(src));
  });
});

Deno.test("winrm: an old listener's 150 KB envelope limit is met by falling back", async () => {
  await withComm({ maxEnvelopeSize: 153_600 }, async (comm, s, dir) => {
    const src = `${dir}/two.bin`;
    await writeRandomFile(src, 2);
    await comm.upload("C:\\data\\two.bin", await Deno.readFile(src));
    assert.equal(await sha256File(`${s.root}/C/data/two.bin`), await sha256File(src));
    assert.ok(s.stats.oversized >= 1, "the first large envelope was refused");
    assert.ok(s.stats.largestRequest > 100_000 && s.stats.largestRequest <= 153_600);
  });
});

Deno.test("winrm: directories go up and down with Packer's trailing-slash rule", async () => {
  await withComm({}, async (comm, s, dir) => {
    const tree = `${dir}/site`;
    await Deno.mkdir(`${tree}/css/deep`, { recursive: true });
    await Deno.mkdir(`${tree}/empty`);
    await Deno.writeTextFile(`${tree}/index.html`, "<h1>hi</h1>\n");
    await Deno.writeTextFile(`${tree}/css/deep/a b.css`, "body{}\n".repeat(50_000));
    await Deno.writeFile(`${tree}/zero`, new Uint8Array(0));

    await comm.uploadDir("C:\\inetpub", tree); // no slash: creates C:\inetpub\site
    await comm.uploadDir("C:\\flat", `${tree}/`); // slash: the contents only
    const root = `${s.root}/C`;
    assert.equal(await Deno.readTextFile(`${root}/inetpub/site/index.html`), "<h1>hi</h1>\n");
    assert.equal(
      await sha256File(`${root}/inetpub/site/css/deep/a b.css`),
      await sha256File(`${tree}/css/deep/a b.css`),
    );
    assert.ok((await Deno.stat(`${root}/inetpub/site/empty`)).isDirectory);
    assert.equal((await Deno.stat(`${root}/inetpub/site/zero`)).size, 0);
    assert.equal(await Deno.readTextFile(`${root}/flat/index.html`), "<h1>hi</h1>\n");
    await assert.rejects(Deno.stat(`${root}/flat/site`), Deno.errors.NotFound);

    await comm.downloadDir("C:\\inetpub\\site", `${dir}/got`);
    assert.equal(await Deno.readTextFile(`${dir}/got/site/index.html`), "<h1>hi</h1>\n");
    assert.equal(
      await sha256File(`${dir}/got/site/css/deep/a b.css`),
      await sha256File(`${tree}/css/deep/a b.css`),
    );
    assert.ok((await Deno.stat(`${dir}/got/site/empty`)).isDirectory);

    await comm.downloadDir("C:\\inetpub\\site\\*.html", `${dir}/glob`);
    assert.deepEqual([...Deno.readDirSync(`${dir}/glob`)].map((e) => e.name), ["index.html"]);
  });
});

Deno.test("winrm: a missing remote file is a clear error", async () => {
  await withComm({}, async (comm, _s, dir) => {
    const out = await Deno.open(`${dir}/x`, { write: true, create: true, truncate: true });
    await assert.rejects(
      comm.download("C:\\nope\\missing.txt", out.writable),
      /download of C:\\nope\\missing\.txt failed: Cannot find path 'C:\\nope\\missing\.txt'/,
    );
  });
});
