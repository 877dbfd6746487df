/**
 * The S3 emulator's faults, as an AWS SDK client meets them: throttling,
 * 500 bursts, slow answers, an unreachable endpoint that comes back on the same
 * port, and lost responses of writes that did commit — in process and through
 * serve.ts's admin path for an emulator in another process.
 */
import assert from "node:assert/strict";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { startS3Emulator } from "../support/s3/mod.ts";
import { s3ClientFor, sdkFailure } from "../support/s3/client.ts";

const append = (key: string, body: string) =>
  new PutObjectCommand({ Bucket: "runs", Key: key, Body: body, IfNoneMatch: "*" });

Deno.test("throttling and 500 bursts reach the SDK as SlowDown 503 and InternalError 500; its retries get through and are counted", async () => {
  const s3 = await startS3Emulator({ buckets: ["runs"] });
  const once = s3ClientFor(s3.endpoint);
  const retrying = s3ClientFor(s3.endpoint, 3);
  try {
    s3.faults.configure({ throttleRate: 1 });
    assert.deepEqual(await sdkFailure(once.send(append("a", "x"))), {
      name: "SlowDown",
      status: 503,
    });
    s3.faults.configure({ errorBursts: [{ startCall: 1, length: 2, status: 500 }] });
    assert.deepEqual(await sdkFailure(once.send(append("a", "x"))), {
      name: "InternalError",
      status: 500,
    });
    s3.calls.clear();
    s3.faults.configure({ errorBursts: [{ startCall: 1, length: 2, status: 503 }] });
    const put = await retrying.send(append("a", "x"));
    assert.equal(put.$metadata.attempts, 3);
    assert.equal(s3.calls.get("PutObject"), 3, "every attempt is counted");
    assert.equal(s3.faults.injected.get("SlowDown"), 3, "one from throttling, two from the burst");
    assert.equal(s3.faults.injected.get("InternalError"), 1);
  } finally {
    once.destroy();
    retrying.destroy();
    await s3.close();
  }
});

Deno.test("a per-request delay makes a client with a deadline time out", async () => {
  const s3 = await startS3Emulator({ buckets: ["runs"], faults: { delayMs: 400 } });
  const client = s3ClientFor(s3.endpoint);
  try {
    const slow = await sdkFailure(
      client.send(new ListObjectsV2Command({ Bucket: "runs" }), {
        abortSignal: AbortSignal.timeout(100),
      }),
    );
    assert.match(slow.name, /Abort|Timeout/);
    s3.faults.configure({ delayMs: 400, delayOperations: ["PutObject"] });
    const listed = await client.send(new ListObjectsV2Command({ Bucket: "runs" }), {
      abortSignal: AbortSignal.timeout(300),
    });
    assert.equal(listed.KeyCount, 0, "operations not named are not delayed");
  } finally {
    client.destroy();
    await s3.close();
  }
});

Deno.test("an unreachable emulator refuses connections, then serves again on the same port", async () => {
  const s3 = await startS3Emulator({ buckets: ["runs"] });
  const client = s3ClientFor(s3.endpoint);
  try {
    await client.send(append("before", "1"));
    await s3.goOffline();
    assert.equal(s3.offline, true);
    const refused = await sdkFailure(client.send(append("during", "2")));
    assert.equal(refused.status, undefined, `no HTTP answer at all (${refused.name})`);
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: s3.port }), /refused/i);
    s3.goOnline();
    await client.send(append("after", "3"));
    assert.deepEqual(s3.store.listAll(), ["runs/after", "runs/before"]);
    await s3.goOffline(200);
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: s3.port }), /refused/i);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(s3.offline, false, "back after the given time");
    await client.send(append("later", "4"));
  } finally {
    client.destroy();
    await s3.close();
  }
});

Deno.test("the admin path on the S3 port itself answers before it takes the port offline for the given time", async () => {
  const s3 = await startS3Emulator({ buckets: ["runs"] });
  try {
    const answer = await fetch(`${s3.endpoint}/_emulator/offline`, {
      method: "POST",
      body: JSON.stringify({ ms: 300 }),
    });
    assert.deepEqual(await answer.json(), { offline: true });
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: s3.port }), /refused/i);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const calls = await fetch(`${s3.endpoint}/_emulator/calls`);
    assert.deepEqual(
      await calls.json(),
      { calls: {}, injected: {} },
      "admin requests are not counted",
    );
  } finally {
    await s3.close();
  }
});

Deno.test("a lost response: the append commits, the client sees a failure, and its retry gets 412 for its own write", async () => {
  const s3 = await startS3Emulator({
    buckets: ["runs"],
    faults: { lostResponses: [{ operation: "PutObject", keyPrefix: "r1/seg/" }] },
  });
  const once = s3ClientFor(s3.endpoint);
  const retrying = s3ClientFor(s3.endpoint, 3);
  try {
    const dropped = await sdkFailure(once.send(append("r1/seg/000001", "event 1")));
    assert.equal(
      dropped.status,
      undefined,
      `the connection dropped with no answer (${dropped.name})`,
    );
    const stored = await once.send(new GetObjectCommand({ Bucket: "runs", Key: "r1/seg/000001" }));
    assert.equal(await stored.Body!.transformToString(), "event 1", "yet the write committed");
    // The SDK's own retry of a dropped append meets the append it already made.
    s3.faults.configure({ lostResponses: [{ operation: "PutObject", keyPrefix: "r1/seg/" }] });
    assert.deepEqual(await sdkFailure(retrying.send(append("r1/seg/000002", "event 2"))), {
      name: "PreconditionFailed",
      status: 412,
    });
    assert.equal(s3.calls.get("PutObject"), 3);
    s3.faults.configure({ lostResponses: [{ operation: "PutObject", mode: "error", nth: 2 }] });
    await once.send(append("r1/seg/000003", "event 3"));
    assert.deepEqual(await sdkFailure(once.send(append("r1/seg/000004", "event 4"))), {
      name: "InternalError",
      status: 500,
    });
    assert.ok(s3.store.has("runs", "r1/seg/000004"));
    assert.equal(s3.faults.injected.get("LostResponse"), 3);
  } finally {
    once.destroy();
    retrying.destroy();
    await s3.close();
  }
});

Deno.test("a named call can fail once with a chosen S3 error", async () => {
  const s3 = await startS3Emulator({
    buckets: ["runs"],
    faults: { failCalls: [{ operation: "GetObject", code: "AccessDenied", status: 403 }] },
  });
  const client = s3ClientFor(s3.endpoint);
  try {
    await client.send(append("k", "v"));
    const get = () => client.send(new GetObjectCommand({ Bucket: "runs", Key: "k" }));
    assert.deepEqual(await sdkFailure(get()), { name: "AccessDenied", status: 403 });
    assert.equal(await (await get()).Body!.transformToString(), "v", "only once");
  } finally {
    client.destroy();
    await s3.close();
  }
});

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return text.split("\n")[0];
}

Deno.test("serve.ts runs the emulator in another process; faults and counts go through its admin port", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../support/s3/serve.ts", import.meta.url).pathname,
      "--bucket",
      "runs",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const { endpoint, admin } = JSON.parse(await firstLine(child.stdout));
  const client = s3ClientFor(endpoint);
  const post = async (path: string, body: unknown) => {
    const answer = await fetch(`${admin}/_emulator/${path}`, {
      method: "POST",
      body: JSON.stringify(body),
    });
    return { status: answer.status, json: await answer.json() };
  };
  try {
    await client.send(append("a", "1"));
    assert.equal((await post("faults", { throttleRate: 1 })).status, 200);
    assert.equal((await sdkFailure(client.send(append("b", "2")))).name, "SlowDown");
    const bad = await post("faults", { throttle: 1 });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /unknown fault option\(s\): throttle/);
    await post("faults", {});
    await post("offline", {});
    assert.equal((await sdkFailure(client.send(append("c", "3")))).status, undefined);
    await post("online", {});
    await client.send(append("c", "3"));
    const counts = await (await fetch(`${admin}/_emulator/calls`)).json();
    // The put made while offline never reached the emulator, so it is not counted.
    assert.deepEqual(counts, { calls: { PutObject: 3 }, injected: { SlowDown: 1 } });
  } finally {
    client.destroy();
    child.kill("SIGTERM");
    await child.status;
    await child.stdout.cancel().catch(() => {});
  }
});
