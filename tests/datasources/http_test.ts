/** The `http` data source against a real HTTP server on 127.0.0.1. */
import assert from "node:assert/strict";
import { dataSourceTypes, loadDataSource } from "../../datasources/mod.ts";
import { problems, run } from "./support.ts";

interface Seen {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

/** Serves `respond` on 127.0.0.1; records each request. */
async function withServer(
  respond: (req: Request, seen: Seen) => Response,
  body: (base: string, seen: Seen[]) => Promise<void>,
): Promise<void> {
  const seen: Seen[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const s: Seen = {
        method: req.method,
        path: new URL(req.url).pathname,
        headers: req.headers,
        body: await req.text(),
      };
      seen.push(s);
      return respond(req, s);
    },
  );
  try {
    await body(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    await server.shutdown();
  }
}

Deno.test("http and amazon-ami are registered data source types", async () => {
  assert.deepEqual(dataSourceTypes().sort(), ["amazon-ami", "http"]);
  assert.equal(loadDataSource("external"), undefined);
  assert.equal((await loadDataSource("http"))?.type, "http");
});

Deno.test("a GET returns the body, the URL and the response headers; request headers are sent", async () => {
  await withServer(
    () =>
      new Response('{"version":"1.2.3"}', {
        headers: { "content-type": "application/json", "x-build-id": "42" },
      }),
    async (base, seen) => {
      const { outputs, log } = await run("http", {
        url: `${base}/v1/check`,
        request_headers: { Accept: "application/json", "X-Token": "abc" },
      });
      assert.equal(outputs.body, '{"version":"1.2.3"}');
      assert.equal(outputs.url, `${base}/v1/check`);
      const headers = outputs.request_headers as Record<string, string>;
      // Go's canonical names, as a template written for Packer indexes them.
      assert.equal(headers["Content-Type"], "application/json");
      assert.equal(headers["X-Build-Id"], "42");
      assert.deepEqual(outputs.response_headers, headers);
      assert.deepEqual(log, []);
      assert.equal(seen.length, 1);
      assert.equal(seen[0].method, "GET");
      assert.equal(seen[0].path, "/v1/check");
      assert.equal(seen[0].headers.get("accept"), "application/json");
      assert.equal(seen[0].headers.get("x-token"), "abc");
    },
  );
});

Deno.test("method and request_body are sent as given", async () => {
  await withServer(
    (_req, s) =>
      new Response(`got ${s.method} ${s.body}`, { headers: { "content-type": "text/plain" } }),
    async (base, seen) => {
      const { outputs } = await run("http", {
        url: `${base}/items`,
        method: "POST",
        request_body: '{"name":"kiln"}',
        request_headers: { "Content-Type": "application/json" },
      });
      assert.equal(outputs.body, 'got POST {"name":"kiln"}');
      assert.equal(seen[0].headers.get("content-type"), "application/json");
    },
  );
});

Deno.test("a repeated response header is one entry, its values joined with a comma", async () => {
  await withServer(
    () => {
      const headers = new Headers({ "content-type": "text/plain; charset=utf-8" });
      headers.append("x-mirror", "eu");
      headers.append("x-mirror", "us");
      return new Response("ok", { headers });
    },
    async (base) => {
      const { outputs } = await run("http", { url: base });
      assert.equal((outputs.request_headers as Record<string, string>)["X-Mirror"], "eu, us");
    },
  );
});

Deno.test("a 404 fails, naming the status and the URL", async () => {
  await withServer(
    () => new Response("not here", { status: 404, headers: { "content-type": "text/plain" } }),
    async (base) => {
      await assert.rejects(
        run("http", { url: `${base}/missing.json` }),
        (err: Error) => {
          assert.match(err.message, /HTTP request error\. Response code: 404/);
          assert.ok(err.message.includes(`${base}/missing.json`), err.message);
          return true;
        },
      );
    },
  );
});

Deno.test("a 500 fails too; a 204 is success with an empty body", async () => {
  let status = 500;
  await withServer(
    () => new Response(status === 204 ? null : "boom", { status }),
    async (base) => {
      await assert.rejects(run("http", { url: base }), /Response code: 500/);
      status = 204;
      const { outputs } = await run("http", { url: base });
      assert.equal(outputs.body, "");
    },
  );
});

Deno.test("a body that is not text is returned, with Packer's warning", async () => {
  await withServer(
    () =>
      new Response("\x00\x01binary", { headers: { "content-type": "application/octet-stream" } }),
    async (base) => {
      const { outputs, log } = await run("http", { url: base });
      assert.equal(outputs.body, "\x00\x01binary");
      assert.equal(
        log[0],
        'Content-Type is not recognized as a text type, got "application/octet-stream"',
      );
      assert.match(log[1], /If the content is binary data/);
    },
  );
});

Deno.test("text in another charset is not text for the data source", async () => {
  await withServer(
    () =>
      new Response("caf\xe9", { headers: { "content-type": "text/plain; charset=ISO-8859-1" } }),
    async (base) => {
      const { log } = await run("http", { url: base });
      assert.match(
        log[0] ?? "",
        /not recognized as a text type, got "text\/plain; charset=ISO-8859-1"/,
      );
    },
  );
});

Deno.test("nothing listening: the error names the URL, without a stack trace", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await assert.rejects(run("http", { url: `http://127.0.0.1:${port}/x` }), (err: Error) => {
    assert.ok(
      err.message.startsWith(`HTTP request error: GET http://127.0.0.1:${port}/x: `),
      err.message,
    );
    assert.ok(!err.message.includes("    at "), err.message);
    return true;
  });
});

Deno.test("bad blocks are refused when decoded", async () => {
  assert.deepEqual(await problems("http", {}), ['data.http.test.url: "url" is required']);
  assert.deepEqual(await problems("http", { url: "http://x", method: "get" }), [
    'data.http.test.method: expected one of "HEAD", "GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", got "get"',
  ]);
  assert.deepEqual(await problems("http", { url: "file:///etc/passwd" }), [
    'data.http.test.url: unsupported protocol scheme "file": the URL must be http:// or https://',
  ]);
  const [bodyOnGet] = await problems("http", { url: "http://x", request_body: "{}" });
  assert.match(bodyOnGet, /request_body: a request body cannot be sent with method GET/);
  assert.deepEqual(await problems("http", { url: "http://x", timeout: "5s" }), [
    'data.http.test.timeout: unknown configuration key: "timeout"',
  ]);
});
