/**
 * Each fault switch of the EC2 emulator, observed through the real SDK:
 * seeded throttling, 5xx bursts, a named call failing once, eventual
 * consistency, an instance that never runs, ignored ClientToken, a response
 * lost after the call took effect — and the `/_kiln/state` ledger.
 */
import assert from "node:assert/strict";
import {
  CreateKeyPairCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeRegionsCommand,
  type EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import type { FaultOptions } from "../support/ec2/mod.ts";
import { ec2Client, waitFor, withEmulator } from "./helpers.ts";

async function imageId(client: EC2Client): Promise<string> {
  const out = await client.send(
    new DescribeImagesCommand({ Filters: [{ Name: "name", Values: ["amzn-ami-hvm-*"] }] }),
  );
  return out.Images![0].ImageId!;
}

async function outcomes(faults: FaultOptions, calls: number): Promise<string[]> {
  const seen: string[] = [];
  await withEmulator({ faults }, async (_emulator, client) => {
    for (let i = 0; i < calls; i++) {
      seen.push(
        await client.send(new DescribeRegionsCommand({})).then(
          () => "ok",
          (e) => `${e.name}/${e.$metadata.httpStatusCode}`,
        ),
      );
    }
  });
  return seen;
}

Deno.test("throttling answers RequestLimitExceeded 503 at the given rate, the same calls for the same seed", async () => {
  const first = await outcomes({ throttleRate: 0.5, seed: 7 }, 40);
  const throttled = first.filter((o) => o === "RequestLimitExceeded/503").length;
  assert.ok(throttled > 5 && throttled < 35, `about half throttled, got ${throttled}`);
  assert.equal(first.filter((o) => o === "ok").length, 40 - throttled);
  assert.deepEqual(await outcomes({ throttleRate: 0.5, seed: 7 }, 40), first, "deterministic");
  assert.notDeepEqual(await outcomes({ throttleRate: 0.5, seed: 8 }, 40), first);
});

Deno.test("the SDK's own retries get through 30 % throttling", async () => {
  await withEmulator({ faults: { throttleRate: 0.3, seed: 3 } }, async (emulator) => {
    const client = ec2Client(emulator, { maxAttempts: 8 });
    try {
      for (let i = 0; i < 4; i++) await client.send(new DescribeRegionsCommand({}));
    } finally {
      client.destroy();
    }
    assert.ok((emulator.ledger().faultsInjected.RequestLimitExceeded ?? 0) > 0);
  });
});

Deno.test("a 5xx burst fails exactly the calls it covers", async () => {
  const seen = await outcomes({ serverErrorBursts: [{ startCall: 3, length: 2, status: 500 }] }, 6);
  assert.deepEqual(seen, ["ok", "ok", "InternalError/500", "InternalError/500", "ok", "ok"]);
  const unavailable = await outcomes({ serverErrorBursts: [{ startCall: 1, length: 1 }] }, 2);
  assert.deepEqual(unavailable, ["Unavailable/503", "ok"]);
});

Deno.test("a named call fails once with the configured error, then works", async () => {
  await withEmulator({
    faults: {
      failCalls: [{
        action: "RunInstances",
        code: "InsufficientInstanceCapacity",
        message: "no capacity",
        status: 500,
      }],
    },
  }, async (emulator, client) => {
    const request = { ImageId: await imageId(client), MinCount: 1, MaxCount: 1 };
    await assert.rejects(
      client.send(new RunInstancesCommand(request)),
      (e: Error) => e.name === "InsufficientInstanceCapacity" && e.message === "no capacity",
    );
    assert.equal(emulator.ledger().launches, 0);
    const run = await client.send(new RunInstancesCommand(request));
    assert.equal(emulator.ledger().launches, 1);
    await client.send(
      new TerminateInstancesCommand({ InstanceIds: [run.Instances![0].InstanceId!] }),
    );
  });
});

Deno.test("eventual consistency: a new instance or key pair is NotFound for the next N lookups", async () => {
  await withEmulator({ faults: { invisibleForDescribes: 2 } }, async (_emulator, client) => {
    const run = await client.send(
      new RunInstancesCommand({ ImageId: await imageId(client), MinCount: 1, MaxCount: 1 }),
    );
    const instanceId = run.Instances![0].InstanceId!;
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })),
        (e: Error) => e.name === "InvalidInstanceID.NotFound",
      );
    }
    const found = await client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    assert.equal(found.Reservations![0].Instances![0].InstanceId, instanceId);

    await client.send(new CreateKeyPairCommand({ KeyName: "late" }));
    const listed = await client.send(new DescribeKeyPairsCommand({}));
    assert.deepEqual(listed.KeyPairs, [], "missing from a listing too");
    await assert.rejects(
      client.send(new DescribeKeyPairsCommand({ KeyNames: ["late"] })),
      (e: Error) => e.name === "InvalidKeyPair.NotFound",
    );
    const visible = await client.send(new DescribeKeyPairsCommand({ KeyNames: ["late"] }));
    assert.equal(visible.KeyPairs![0].KeyName, "late");
    await client.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
  });
});

Deno.test("an instance listed in neverRunning stays pending while the others boot", async () => {
  await withEmulator({ faults: { neverRunning: [1] } }, async (_emulator, client) => {
    const ami = await imageId(client);
    const stuck =
      (await client.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1 })))
        .Instances![0].InstanceId!;
    const normal =
      (await client.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1 })))
        .Instances![0].InstanceId!;
    const state = async (id: string) =>
      (await client.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]
        .Instances![0].State!.Name;
    await waitFor(
      "second instance running",
      async () => (await state(normal)) === "running" || undefined,
    );
    assert.equal(await state(stuck), "pending");
    await client.send(new TerminateInstancesCommand({ InstanceIds: [stuck, normal] }));
    await waitFor(
      "stuck instance terminated",
      async () => (await state(stuck)) === "terminated" || undefined,
    );
  });
});

Deno.test("ignoreClientToken makes a retried RunInstances launch twice, as some EC2-compatible endpoints do", async () => {
  await withEmulator({ faults: { ignoreClientToken: true } }, async (emulator, client) => {
    const request = {
      ImageId: await imageId(client),
      MinCount: 1,
      MaxCount: 1,
      ClientToken: "same",
    };
    const a = await client.send(new RunInstancesCommand(request));
    const b = await client.send(new RunInstancesCommand(request));
    assert.notEqual(a.Instances![0].InstanceId, b.Instances![0].InstanceId);
    assert.equal(emulator.ledger().launches, 2);
    await client.send(
      new TerminateInstancesCommand({
        InstanceIds: [a.Instances![0].InstanceId!, b.Instances![0].InstanceId!],
      }),
    );
  });
});

Deno.test("a lost response: RunInstances takes effect, the client sees a 500, and the ClientToken retry finds it", async () => {
  await withEmulator(
    { faults: { lostResponses: [{ action: "RunInstances" }] } },
    async (emulator, client) => {
      const request = {
        ImageId: await imageId(client),
        MinCount: 1,
        MaxCount: 1,
        ClientToken: "tok-lost",
      };
      await assert.rejects(
        client.send(new RunInstancesCommand(request)),
        (e: Error) => e.name === "InternalError",
      );
      assert.equal(emulator.ledger().launches, 1, "the instance exists despite the error");
      const retry = await client.send(new RunInstancesCommand(request));
      assert.equal(emulator.ledger().launches, 1);
      assert.deepEqual(emulator.leaks(), [retry.Instances![0].InstanceId]);

      const state = await (await fetch(`${emulator.endpoint}/_kiln/state`)).json();
      assert.equal(state.instances[0].instanceId, retry.Instances![0].InstanceId);
      assert.equal(state.calls.RunInstances, 2);
      assert.equal(state.faultsInjected.LostResponse, 1);
      await client.send(
        new TerminateInstancesCommand({ InstanceIds: [retry.Instances![0].InstanceId!] }),
      );
    },
  );
});
