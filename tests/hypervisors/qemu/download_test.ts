import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  checksumByLength,
  findInChecksumFile,
  resolveChecksum,
} from "../../../hypervisors/qemu/checksum.ts";
import {
  cacheTarget,
  defaultCacheDir,
  downloadImage,
  type DownloadProgress,
} from "../../../hypervisors/qemu/download.ts";
import { startHttpServer } from "../../../hypervisors/qemu/http_server.ts";
import { withTempDir } from "../../support/temp_dir.ts";

const digest = (type: string, bytes: Uint8Array) => createHash(type).update(bytes).digest("hex");
const image = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31 + (i >> 11)) & 0xff);
const sha256 = digest("sha256", image);

/**
 * A server for one file that answers Range requests and, while `dropAfter`
 * is set, cuts the connection after that many bytes of a response.
 */
function imageServer(bytes: Uint8Array) {
  const requests: { method: string; range: string | null }[] = [];
  const state = { dropAfter: undefined as number | undefined, drops: 0, ignoreRange: false };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const url = new URL(request.url);
    requests.push({ method: request.method, range: request.headers.get("range") });
    if (url.pathname === "/SHA256SUMS") {
      return new Response(
        `${digest("sha256", bytes)}  other.iso\n${digest("sha256", bytes)} *disk.iso\n`,
      );
    }
    if (url.pathname !== "/disk.iso") return new Response("no", { status: 404 });
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(request.headers.get("range") ?? "");
    if (range && !state.ignoreRange) start = Number(range[1]);
    if (start >= bytes.length && start > 0) {
      return new Response(null, {
        status: 416,
        headers: { "content-range": `bytes */${bytes.length}` },
      });
    }
    const body = bytes.subarray(start);
    const headers: Record<string, string> = {
      "accept-ranges": "bytes",
      "content-length": String(body.length),
    };
    if (start > 0) headers["content-range"] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
    if (request.method === "HEAD") return new Response(null, { headers });
    const cut = state.dropAfter;
    if (cut !== undefined && cut < body.length) state.drops++;
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (cut !== undefined && sent >= cut) {
          controller.error(new Error("dropped on purpose"));
          return;
        }
        const end = Math.min(body.length, sent + 64 * 1024, cut ?? Infinity);
        controller.enqueue(body.slice(sent, end));
        sent = end;
        if (sent >= body.length) controller.close();
      },
    });
    return new Response(stream, { status: start > 0 ? 206 : 200, headers });
  });
  const port = (server.addr as Deno.NetAddr).port;
  return {
    url: `http://127.0.0.1:${port}/disk.iso`,
    base: `http://127.0.0.1:${port}`,
    requests,
    state,
    stop: () => server.shutdown(),
  };
}

Deno.test("iso_checksum: prefixes, bare hex by length, none, and clear errors", async () => {
  const opts = { cwd: "/" };
  const bytes = new TextEncoder().encode("kiln");
  for (const type of ["md5", "sha1", "sha256", "sha512"]) {
    const hex = digest(type, bytes);
    assert.deepEqual(await resolveChecksum(`${type}:${hex}`, "x.iso", opts), { type, hex });
    assert.deepEqual(
      await resolveChecksum(`${type.toUpperCase()}:${hex.toUpperCase()}`, "x.iso", opts),
      {
        type,
        hex,
      },
    );
    assert.deepEqual(await resolveChecksum(hex, "x.iso", opts), { type, hex });
  }
  assert.equal(await resolveChecksum("none", "x.iso", opts), undefined);
  await assert.rejects(
    resolveChecksum("abcd", "x.iso", opts),
    /cannot tell the type of checksum "abcd"/,
  );
  await assert.rejects(
    resolveChecksum("sha256:abcd", "x.iso", opts),
    /a sha256 checksum has 64 hex digits/,
  );
  await assert.rejects(
    resolveChecksum("sha3:abcd", "x.iso", opts),
    /unsupported checksum type "sha3"/,
  );
  await assert.rejects(resolveChecksum("zz", "x.iso", opts), /"zz" is not a hexadecimal checksum/);
});

Deno.test("checksum files: GNU and BSD lines, the image's own line, go-getter's matching", () => {
  const a = "a".repeat(64), b = "b".repeat(64), c = "c".repeat(32);
  const gnu = `# comment\n${a}  ubuntu-20.04-server.iso\n${b} *ubuntu-20.04-desktop.iso\n`;
  assert.equal(
    findInChecksumFile(gnu, "/releases/ubuntu-20.04-desktop.iso", "/releases", "/")?.hex,
    b,
  );
  assert.equal(
    findInChecksumFile(gnu, "/releases/ubuntu-20.04-server.iso", "/releases", "/")?.hex,
    a,
  );
  assert.equal(findInChecksumFile(gnu, "/releases/other.iso", "/releases", "/"), undefined);
  const bsd = `MD5 (x.iso) = ${c}\nSHA256 (disk.iso) = ${a}`;
  assert.deepEqual(findInChecksumFile(bsd, "/w/disk.iso", "/w", "/"), { type: "sha256", hex: a });
  assert.deepEqual(findInChecksumFile(bsd, "/w/x.iso", "/w", "/"), { type: "md5", hex: c });
  // A path relative to the checksum file, and the sub-folder form Ubuntu uses.
  const nested = `${b}  ./hwe-netboot/mini.iso\n${a}  ./netboot/mini.iso\n`;
  assert.equal(findInChecksumFile(nested, "/u/netboot/mini.iso", "/u", "/")?.hex, a);
  assert.equal(findInChecksumFile(nested, "/u/hwe-netboot/mini.iso", "/u", "/")?.hex, b);
  assert.equal(findInChecksumFile(`${c}\n`, "/anything.iso", "/", "/")?.hex, c, "a lone digest");
  assert.equal(checksumByLength(c).type, "md5");
});

Deno.test("a local path or file:// URL is used in place, checked, never copied or deleted", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/local.iso`, image);
    await Deno.writeTextFile(`${dir}/SUMS`, `${sha256}  local.iso\n`);
    for (const url of ["local.iso", `${dir}/local.iso`, `file://${dir}/local.iso`]) {
      const result = await downloadImage({
        urls: [url],
        checksum: "file:./SUMS",
        cwd: dir,
        cacheDir: `${dir}/cache`,
      });
      assert.equal(result.source, "in-place");
      assert.equal(result.path, url === "local.iso" ? `${dir}/local.iso` : `${dir}/local.iso`);
      assert.deepEqual(result.checksum, { type: "sha256", hex: sha256 });
    }
    assert.equal(
      await Deno.stat(`${dir}/cache`).then(() => true, () => false),
      false,
      "nothing cached",
    );
    await assert.rejects(
      downloadImage({
        urls: ["local.iso"],
        checksum: `md5:${"0".repeat(32)}`,
        cwd: dir,
        cacheDir: `${dir}/c`,
      }),
      /checksum mismatch for .*local\.iso: expected md5 0{32}, got [0-9a-f]{32}; the file was left in place/,
    );
    assert.equal(
      (await Deno.stat(`${dir}/local.iso`)).size,
      image.length,
      "the user's file is untouched",
    );
  });
});

Deno.test("http: downloaded into Packer's cache name, then served from the cache with no request", async () => {
  await withTempDir(async (dir) => {
    const server = imageServer(image);
    try {
      const progress: DownloadProgress[] = [];
      const options = {
        urls: [server.url],
        checksum: `file:${server.base}/SHA256SUMS`,
        cwd: dir,
        cacheDir: defaultCacheDir({}, dir),
        onProgress: (p: DownloadProgress) => progress.push(p),
      };
      const first = await downloadImage(options);
      const name = createHash("sha1").update(`sha256:${sha256}`).digest("hex");
      assert.equal(first.path, `${dir}/packer_cache/${name}.iso`);
      assert.equal(first.source, "downloaded");
      assert.deepEqual(await Deno.readFile(first.path), image);
      assert.equal(progress.at(-1)?.received, image.length);
      assert.equal(progress.at(-1)?.total, image.length);
      assert.equal(await Deno.stat(`${first.path}.part`).then(() => true, () => false), false);
      const before = server.requests.filter((r) =>
        new URL(server.url).pathname && r.range !== undefined
      ).length;
      const second = await downloadImage(options);
      assert.equal(second.source, "cache");
      assert.equal(second.path, first.path);
      // Only the checksum file was fetched again.
      assert.equal(server.requests.length, before + 1);
    } finally {
      await server.stop();
    }
  });
});

Deno.test("a dropped connection is resumed with a Range request, and the result is whole", async () => {
  await withTempDir(async (dir) => {
    const server = imageServer(image);
    try {
      server.state.dropAfter = 1024 * 1024;
      const messages: string[] = [];
      const result = await downloadImage({
        urls: [server.url],
        checksum: `sha256:${sha256}`,
        cwd: dir,
        cacheDir: `${dir}/cache`,
        onMessage: (m) => messages.push(m),
      });
      assert.deepEqual(await Deno.readFile(result.path), image);
      const gets = server.requests.filter((r) => r.method === "GET");
      assert.deepEqual(gets.map((r) => r.range), [null, "bytes=1048576-", "bytes=2097152-"]);
      assert.ok(messages.some((m) => /resuming at byte 1048576/.test(m)), messages.join("\n"));
    } finally {
      await server.stop();
    }
  });
});

Deno.test("a .part left by an earlier run (kill -9) is resumed on the next run", async () => {
  await withTempDir(async (dir) => {
    const server = imageServer(image);
    try {
      const target = cacheTarget(server.url, { type: "sha256", hex: sha256 }, {
        cacheDir: `${dir}/cache`,
        cwd: dir,
      });
      await Deno.mkdir(`${dir}/cache`);
      await Deno.writeFile(`${target}.part`, image.subarray(0, 777_777));
      const result = await downloadImage({
        urls: [server.url],
        checksum: sha256,
        cwd: dir,
        cacheDir: `${dir}/cache`,
      });
      assert.equal(result.path, target);
      assert.deepEqual(await Deno.readFile(target), image);
      assert.deepEqual(server.requests.filter((r) => r.method === "GET").map((r) => r.range), [
        "bytes=777777-",
      ]);

      // A server that ignores Range sends the whole file: the part restarts instead of growing.
      await Deno.remove(target);
      await Deno.writeFile(`${target}.part`, image.subarray(0, 5000));
      server.state.ignoreRange = true;
      const again = await downloadImage({
        urls: [server.url],
        checksum: sha256,
        cwd: dir,
        cacheDir: `${dir}/cache`,
      });
      assert.deepEqual(await Deno.readFile(again.path), image);
    } finally {
      await server.stop();
    }
  });
});

Deno.test("a checksum mismatch removes the download; the next URL is tried; all errors are listed", async () => {
  await withTempDir(async (dir) => {
    const server = imageServer(image);
    try {
      const wrong = "0".repeat(64);
      const error = await downloadImage({
        urls: [`${server.base}/missing.iso`, server.url],
        checksum: wrong,
        cwd: dir,
        cacheDir: `${dir}/cache`,
      }).then(() => undefined, (e) => e);
      assert.ok(error instanceof Error);
      assert.match(error.message, /missing\.iso: bad response code: 404/);
      assert.match(
        error.message,
        /disk\.iso: checksum mismatch .* expected sha256 0{64}, got [0-9a-f]{64}; the download was removed/,
      );
      const left = [...Deno.readDirSync(`${dir}/cache`)].map((e) => e.name).filter((n) =>
        !n.endsWith(".lock")
      );
      assert.deepEqual(left, []);

      const ok = await downloadImage({
        urls: [`${server.base}/missing.iso`, `http://127.0.0.1:1/refused.iso`, server.url],
        checksum: sha256,
        cwd: dir,
        cacheDir: `${dir}/cache`,
      });
      assert.equal(ok.url, server.url);
    } finally {
      await server.stop();
    }
  });
});

Deno.test("iso_checksum none: cached by the URL's hash, kept when the server reports no more bytes", async () => {
  await withTempDir(async (dir) => {
    const server = imageServer(image);
    try {
      const options = { urls: [server.url], checksum: "none", cwd: dir, cacheDir: `${dir}/cache` };
      const first = await downloadImage(options);
      assert.equal(
        first.path,
        `${dir}/cache/${createHash("sha1").update(server.url).digest("hex")}.iso`,
      );
      const second = await downloadImage(options);
      assert.equal(second.source, "cache");
      assert.equal(server.requests.filter((r) => r.method === "GET").length, 1);
    } finally {
      await server.stop();
    }
  });
  assert.equal(defaultCacheDir({ PACKER_CACHE_DIR: "/var/cache/p" }, "/w"), "/var/cache/p");
  assert.equal(defaultCacheDir({ PACKER_CACHE_DIR: "rel" }, "/w"), "/w/rel");
  assert.equal(
    cacheTarget("http://x/a.iso", undefined, {
      cacheDir: "/c",
      cwd: "/w",
      targetPath: "out/my.img",
    }),
    "/w/out/my.img",
  );
});

Deno.test("throughput: kiln against curl on the same local file", async () => {
  await withTempDir(async (dir) => {
    const size = 256 * 1024 * 1024;
    const file = await Deno.open(`${dir}/big.iso`, { create: true, write: true });
    const block = new Uint8Array(4 * 1024 * 1024).map((_, i) => i & 0xff);
    for (let i = 0; i < size / block.length; i++) await file.write(block);
    file.close();
    const server = await startHttpServer({ directory: dir, portMin: 20000, portMax: 30000 });
    try {
      const url = `http://127.0.0.1:${server.port}/big.iso`;
      let started = performance.now();
      const curl = await new Deno.Command("curl", { args: ["-sS", "-o", `${dir}/curl.out`, url] })
        .output();
      assert.ok(curl.success);
      const curlMs = performance.now() - started;
      started = performance.now();
      const result = await downloadImage({
        urls: [url],
        checksum: "none",
        cwd: dir,
        cacheDir: `${dir}/cache`,
      });
      const kilnMs = performance.now() - started;
      assert.equal(result.bytes, size);
      const mbps = (ms: number) => (size / 1024 / 1024 / (ms / 1000)).toFixed(0);
      console.log(
        `    256 MiB over 127.0.0.1: curl ${curlMs.toFixed(0)} ms (${mbps(curlMs)} MiB/s), ` +
          `kiln ${kilnMs.toFixed(0)} ms (${mbps(kilnMs)} MiB/s), ratio ${
            (kilnMs / curlMs).toFixed(2)
          }`,
      );
    } finally {
      await server.stop();
    }
  });
});

const packerInstalled = await new Deno.Command("packer", { args: ["version"], stdout: "null" })
  .output().then((o) => o.success, () => false);

Deno.test({
  name:
    "Packer 1.6.6 caches the same download under the same name (a shared, content-addressed cache)",
  ignore: !packerInstalled,
  fn: () =>
    withTempDir(async (dir) => {
      const server = imageServer(image);
      try {
        await Deno.writeTextFile(
          `${dir}/fake-qemu`,
          `#!/bin/sh\nif [ "$1" = "-version" ]; then echo "QEMU emulator version 7.2.0"; exit 0; fi\n` +
            `echo $$ > ${dir}/fake-qemu.pid\nexec sleep 60\n`,
        );
        await Deno.chmod(`${dir}/fake-qemu`, 0o755);
        await Deno.writeTextFile(
          `${dir}/t.json`,
          JSON.stringify({
            builders: [{
              type: "qemu",
              iso_url: server.url,
              iso_checksum: `file:${server.base}/SHA256SUMS`,
              ssh_username: "u",
              qemu_binary: `${dir}/fake-qemu`,
              boot_wait: "60s",
              headless: true,
              disk_size: "10M",
              output_directory: "out",
            }],
          }),
        );
        const packer = new Deno.Command("packer", {
          args: ["build", "t.json"],
          cwd: dir,
          stdout: "piped",
          stderr: "piped",
          env: { CHECKPOINT_DISABLE: "1", PACKER_CACHE_DIR: `${dir}/packer-cache` },
        }).spawn();
        const output = new Response(packer.stdout).text();
        try {
          const deadline = Date.now() + 60_000;
          while (!(await Deno.stat(`${dir}/fake-qemu.pid`).then(() => true, () => false))) {
            assert.ok(Date.now() < deadline, "Packer never started its qemu");
            await new Promise((r) => setTimeout(r, 200));
          }
        } finally {
          const fakePid = Number(await Deno.readTextFile(`${dir}/fake-qemu.pid`).catch(() => "0"));
          if (fakePid > 0) Deno.kill(fakePid, "SIGKILL");
          packer.kill("SIGINT");
          await packer.status;
          await output;
          await packer.stderr.cancel().catch(() => {});
        }
        const packers = [...Deno.readDirSync(`${dir}/packer-cache`)].map((e) => e.name)
          .filter((n) => n.endsWith(".iso"));
        const ours = await downloadImage({
          urls: [server.url],
          checksum: `file:${server.base}/SHA256SUMS`,
          cwd: dir,
          cacheDir: `${dir}/packer-cache`,
        });
        assert.deepEqual(packers, [ours.path.split("/").pop()]);
        assert.equal(ours.source, "cache", "kiln reuses the file Packer downloaded");
      } finally {
        await server.stop();
      }
    }),
});
