import assert from "node:assert/strict";
import {
  candidatePorts,
  formatRequestLog,
  httpIpForGuest,
  type HttpRequestLog,
  startHttpServer,
} from "../../../hypervisors/qemu/http_server.ts";
import { withTempDir } from "../../support/temp_dir.ts";

async function makeSite(dir: string): Promise<string> {
  const root = `${dir}/http`;
  await Deno.mkdir(`${root}/sub/deeper`, { recursive: true });
  await Deno.mkdir(`${root}/withindex`);
  await Deno.writeTextFile(`${root}/preseed.cfg`, "d-i debian-installer/locale string en_US\n");
  await Deno.writeTextFile(`${root}/withindex/index.html`, "<h1>index</h1>\n");
  await Deno.writeTextFile(`${root}/sp ace & <x>.txt`, "a b\n");
  await Deno.writeTextFile(`${root}/.hidden`, "dot\n");
  await Deno.writeTextFile(`${root}/sub/deeper/user-data`, "#cloud-config\n");
  const blob = new Uint8Array(3000).map((_, i) => (i * 7) & 0xff);
  await Deno.writeFile(`${root}/sub/blob.bin`, blob);
  await Deno.writeFile(`${root}/empty`, new Uint8Array());
  return root;
}

const requests: [string, Record<string, string>?][] = [
  ["/preseed.cfg"],
  ["/"],
  ["/sub"],
  ["/sub/"],
  ["/sub/deeper/user-data"],
  ["/sub/deeper/user-data/"],
  ["/withindex/"],
  ["/withindex/index.html"],
  ["/withindex"],
  ["/sp%20ace%20&%20%3Cx%3E.txt"],
  ["/.hidden"],
  ["/empty"],
  ["/missing"],
  ["/../../etc/passwd"],
  ["/sub/../preseed.cfg"],
  ["/sub/blob.bin", { range: "bytes=10-19" }],
  ["/sub/blob.bin", { range: "bytes=2990-" }],
  ["/sub/blob.bin", { range: "bytes=-5" }],
  ["/sub/blob.bin", { range: "bytes=5000-" }],
  ["/sub/blob.bin", { range: "bytes=100-10" }],
  ["/sub/blob.bin", { range: "bytes=abc" }],
  ["/sub/blob.bin", { range: "bytes=2999-5000" }],
  ["/sub/blob.bin", { range: "bytes=-0" }],
  ["/sub/blob.bin", { range: "bytes=-99999" }],
  ["/sub/blob.bin"],
  ["/preseed.cfg", { "if-modified-since": "Fri, 01 Jan 2100 00:00:00 GMT" }],
];

const compared = ["content-type", "content-length", "content-range", "location", "accept-ranges"];

async function answer(port: number, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers, redirect: "manual" });
  const body = new Uint8Array(await response.arrayBuffer());
  return {
    status: response.status,
    headers: Object.fromEntries(compared.map((h) => [h, response.headers.get(h)])),
    lastModified: response.headers.get("last-modified") !== null,
    body: [...body].map((b) => b.toString(16).padStart(2, "0")).join(""),
  };
}

Deno.test("http_directory: files, listings, index.html, redirects, ranges, 404", async () => {
  await withTempDir(async (dir) => {
    const root = await makeSite(dir);
    const log: HttpRequestLog[] = [];
    const server = await startHttpServer({ directory: root, onRequest: (e) => log.push(e) });
    try {
      assert.equal(server.address, "127.0.0.1");
      assert.ok(server.port >= 8000 && server.port < 9000);
      const get = (path: string, headers?: Record<string, string>) =>
        fetch(`http://127.0.0.1:${server.port}${path}`, { headers, redirect: "manual" });

      let r = await get("/preseed.cfg");
      assert.equal(r.status, 200);
      assert.equal(await r.text(), "d-i debian-installer/locale string en_US\n");
      assert.equal(r.headers.get("content-type"), "text/plain; charset=utf-8");

      r = await get("/");
      assert.equal(
        await r.text(),
        '<pre>\n<a href=".hidden">.hidden</a>\n<a href="empty">empty</a>\n' +
          '<a href="preseed.cfg">preseed.cfg</a>\n' +
          '<a href="sp%20ace%20&%20%3Cx%3E.txt">sp ace &amp; &lt;x&gt;.txt</a>\n' +
          '<a href="sub/">sub/</a>\n<a href="withindex/">withindex/</a>\n</pre>\n',
      );

      r = await get("/sub");
      assert.equal(r.status, 301);
      assert.equal(r.headers.get("location"), "sub/");
      await r.body?.cancel();

      r = await get("/withindex/");
      assert.equal(await r.text(), "<h1>index</h1>\n");

      r = await get("/sub/blob.bin", { range: "bytes=10-19" });
      assert.equal(r.status, 206);
      assert.equal(r.headers.get("content-range"), "bytes 10-19/3000");
      assert.deepEqual(
        [...new Uint8Array(await r.arrayBuffer())],
        [...Array(10).keys()].map((i) => ((i + 10) * 7) & 0xff),
      );

      r = await get("/sub/blob.bin", { range: "bytes=5000-" });
      assert.equal(r.status, 416);
      assert.equal(r.headers.get("content-range"), "bytes */3000");
      await r.body?.cancel();

      r = await get("/../../etc/passwd");
      assert.equal(r.status, 404);
      assert.equal(await r.text(), "404 page not found\n");

      // curl, as a guest's installer would fetch.
      const curl = await new Deno.Command("curl", {
        args: [
          "-sS",
          "-o",
          `${dir}/got`,
          "-w",
          "%{http_code}",
          `http://127.0.0.1:${server.port}/sub/deeper/user-data`,
        ],
        stdout: "piped",
      }).output();
      assert.equal(new TextDecoder().decode(curl.stdout), "200");
      assert.equal(await Deno.readTextFile(`${dir}/got`), "#cloud-config\n");

      const entry = log.find((e) => e.path === "/sub/deeper/user-data")!;
      assert.equal(entry.status, 200);
      assert.match(
        formatRequestLog(entry),
        /^127\.0\.0\.1:\d+ "GET \/sub\/deeper\/user-data" 200 \d+\.\dms$/,
      );
    } finally {
      await server.stop();
    }
    // Stopped means the port is free again.
    const again = Deno.listen({ hostname: "127.0.0.1", port: server.port });
    again.close();
  });
});

Deno.test("http_content: paths answered with their content, 404 with Packer's suggestion", async () => {
  const server = await startHttpServer({
    content: { "/preseed.cfg": "preseed body", "/a/b": "nested" },
    portMin: 18200,
    portMax: 18210,
  });
  try {
    assert.ok(server.port >= 18200 && server.port < 18210);
    const get = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);
    let r = await get("/preseed.cfg");
    assert.equal(await r.text(), "preseed body");
    r = await get("/a/./b");
    assert.equal(await r.text(), "nested");
    r = await get("/preseed.cgf");
    assert.equal(r.status, 404);
    assert.equal(await r.text(), '/preseed.cgf not found. Did you mean "/preseed.cfg"?\n');
    r = await get("/nothing/like/it");
    assert.equal(await r.text(), "/nothing/like/it not found.\n");
  } finally {
    await server.stop();
  }
});

Deno.test("ports: a busy port is skipped, a full range is a clear error, min = max is that port", async () => {
  // Another test of the suite may take port + 1 in the meantime: a few fresh pairs are tried.
  for (let attempt = 1;; attempt++) {
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (busy.addr as Deno.NetAddr).port;
    try {
      await assert.rejects(
        startHttpServer({ content: { "/x": "y" }, portMin: port, portMax: port }),
        new RegExp(
          `no free port for the HTTP server between ${port} and ${port} on 127\\.0\\.0\\.1`,
        ),
      );
      const server = await startHttpServer({
        content: { "/x": "y" },
        portMin: port,
        portMax: port + 2,
      }).catch((err) => {
        if (attempt < 3 && /no free port/.test(String(err))) return undefined;
        throw err;
      });
      if (!server) continue;
      assert.equal(server.port, port + 1, "max is excluded, as in Packer");
      await server.stop();
      break;
    } finally {
      busy.close();
    }
  }
  assert.deepEqual(candidatePorts(9000, 9000), [9000]);
  assert.deepEqual(candidatePorts(9000, 9003).sort(), [9000, 9001, 9002]);
  await assert.rejects(
    startHttpServer({ directory: "/nonexistent/kiln-http" }),
    /http_directory "\/nonexistent\/kiln-http" cannot be served/,
  );
  await assert.rejects(
    startHttpServer({ content: {}, portMin: 9, portMax: 8 }),
    /must not be greater/,
  );
  assert.equal(httpIpForGuest(), "10.0.2.2");
  assert.equal(httpIpForGuest("lo"), "127.0.0.1");
  assert.throws(() => httpIpForGuest("kiln-no-such-br"), /has no IPv4 address/);
});

const packerInstalled = await new Deno.Command("packer", { args: ["version"], stdout: "null" })
  .output().then((o) => o.success, () => false);

Deno.test({
  name: "http_directory answers as Packer 1.6.6's own HTTP server does",
  ignore: !packerInstalled,
  fn: () =>
    withTempDir(async (dir) => {
      const root = await makeSite(dir);
      // A qemu that only waits keeps Packer's build (and its HTTP server) alive while we ask.
      await Deno.writeTextFile(
        `${dir}/fake-qemu`,
        `#!/bin/sh\necho $$ > ${dir}/fake-qemu.pid\nexec sleep 60\n`,
      );
      await Deno.chmod(`${dir}/fake-qemu`, 0o755);
      await Deno.writeFile(`${dir}/x.iso`, new Uint8Array());
      const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const packerPort = (probe.addr as Deno.NetAddr).port;
      probe.close();
      await Deno.writeTextFile(
        `${dir}/t.json`,
        JSON.stringify({
          builders: [{
            type: "qemu",
            iso_url: "x.iso",
            iso_checksum: "none",
            ssh_username: "u",
            qemu_binary: `${dir}/fake-qemu`,
            http_directory: "http",
            http_port_min: packerPort,
            http_port_max: packerPort,
            boot_wait: "30s",
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
        env: { CHECKPOINT_DISABLE: "1", PACKER_CACHE_DIR: `${dir}/cache` },
      }).spawn();
      const output = new Response(packer.stdout).text();
      const kiln = await startHttpServer({ directory: root });
      try {
        const deadline = Date.now() + 30_000;
        while (
          !(await fetch(`http://127.0.0.1:${packerPort}/`).then(
            (r) => r.body?.cancel().then(() => true),
            () => false,
          ))
        ) {
          assert.ok(Date.now() < deadline, "Packer's HTTP server never came up");
          await new Promise((r) => setTimeout(r, 200));
        }
        for (const [path, headers] of requests) {
          const theirs = await answer(packerPort, path, headers);
          const ours = await answer(kiln.port, path, headers);
          assert.deepEqual(ours, theirs, `${path} ${JSON.stringify(headers ?? {})}`);
        }
      } finally {
        await kiln.stop();
        // The fake qemu first (Packer waits for its qemu), then Packer.
        const fakePid = Number(await Deno.readTextFile(`${dir}/fake-qemu.pid`).catch(() => "0"));
        if (fakePid > 0) Deno.kill(fakePid, "SIGKILL");
        packer.kill("SIGINT");
        await packer.status;
        await output;
        await packer.stderr.cancel().catch(() => {});
      }
    }),
});
