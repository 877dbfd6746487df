/**
 * Instances through the real SDK: ClientToken idempotency, pending → running
 * → shutting-down → terminated, a real sshd per instance that accepts exactly
 * the launch key pair at the instance's (loopback) addresses, security groups
 * held by instances, status/attribute/password calls and spot requests.
 */
import assert from "node:assert/strict";
import {
  CancelSpotInstanceRequestsCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  DeleteKeyPairCommand,
  DeleteSecurityGroupCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeInstanceStatusCommand,
  DescribeSpotInstanceRequestsCommand,
  DescribeSubnetsCommand,
  type EC2Client,
  GetPasswordDataCommand,
  type Instance,
  RequestSpotInstancesCommand,
  RunInstancesCommand,
  type RunInstancesCommandInput,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { freePort, generateKey } from "../support/sshd.ts";
import { ssh, waitFor, withEmulator } from "./helpers.ts";

async function sourceAmi(client: EC2Client): Promise<string> {
  const images = await client.send(
    new DescribeImagesCommand({
      Owners: ["amazon"],
      Filters: [{ Name: "name", Values: ["amzn-ami-hvm-*"] }],
    }),
  );
  return images.Images![0].ImageId!;
}

async function describe(client: EC2Client, instanceId: string): Promise<Instance> {
  const out = await client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return out.Reservations![0].Instances![0];
}

async function waitForState(client: EC2Client, instanceId: string, state: string) {
  return await waitFor(`${instanceId} ${state}`, async () => {
    const instance = await describe(client, instanceId);
    return instance.State!.Name === state ? instance : undefined;
  });
}

Deno.test("RunInstances with the same ClientToken returns the same reservation and launches once", async () => {
  await withEmulator({}, async (emulator, client) => {
    const imageId = await sourceAmi(client);
    const request: RunInstancesCommandInput = {
      ImageId: imageId,
      InstanceType: "m3.medium",
      MinCount: 1,
      MaxCount: 1,
      ClientToken: "kiln-run-1-build-a",
      TagSpecifications: [{
        ResourceType: "instance",
        Tags: [{ Key: "kiln:run", Value: "run-1" }],
      }],
      UserData: btoa("#!/bin/sh\necho hello\n"),
    };
    const first = await client.send(new RunInstancesCommand(request));
    const again = await client.send(new RunInstancesCommand(request));
    assert.equal(again.ReservationId, first.ReservationId);
    assert.deepEqual(
      again.Instances!.map((i) => i.InstanceId),
      first.Instances!.map((i) => i.InstanceId),
    );
    assert.equal(emulator.ledger().launches, 1);
    assert.equal(first.Instances![0].State!.Name, "pending");
    assert.equal(first.Instances![0].ClientToken, "kiln-run-1-build-a");
    assert.deepEqual(first.Instances![0].Tags, [{ Key: "kiln:run", Value: "run-1" }]);

    await assert.rejects(
      client.send(new RunInstancesCommand({ ...request, InstanceType: "m3.large" })),
      (e: Error) => e.name === "IdempotentParameterMismatch",
    );
    const logged = emulator.requests().filter((r) => r.action === "RunInstances");
    assert.deepEqual(
      logged.map((r) => [r.params.ClientToken, r.status, r.error]),
      [
        ["kiln-run-1-build-a", 200, undefined],
        ["kiln-run-1-build-a", 200, undefined],
        ["kiln-run-1-build-a", 400, "IdempotentParameterMismatch"],
      ],
    );
    const byToken = await client.send(
      new DescribeInstancesCommand({
        Filters: [{ Name: "client-token", Values: ["kiln-run-1-build-a"] }],
      }),
    );
    assert.equal(byToken.Reservations![0].Instances![0].InstanceId, first.Instances![0].InstanceId);
    const attribute = await client.send(
      new DescribeInstanceAttributeCommand({
        InstanceId: first.Instances![0].InstanceId,
        Attribute: "userData",
      }),
    );
    assert.equal(atob(attribute.UserData!.Value!), "#!/bin/sh\necho hello\n");
    await client.send(
      new TerminateInstancesCommand({ InstanceIds: [first.Instances![0].InstanceId!] }),
    );
    await waitForState(client, first.Instances![0].InstanceId!, "terminated");
    assert.deepEqual(emulator.leaks(), []);
  });
});

Deno.test("a launched instance runs a real sshd that accepts exactly its key pair, until terminated", async () => {
  await withEmulator({}, async (emulator, client) => {
    const dir = await Deno.makeTempDir();
    try {
      const key = await client.send(
        new CreateKeyPairCommand({ KeyName: "kiln-temp", KeyType: "ed25519" }),
      );
      const keyPath = `${dir}/kiln-temp.pem`;
      await Deno.writeTextFile(keyPath, key.KeyMaterial!, { mode: 0o600 });
      const imageId = await sourceAmi(client);
      const run = await client.send(
        new RunInstancesCommand({
          ImageId: imageId,
          MinCount: 1,
          MaxCount: 1,
          KeyName: "kiln-temp",
        }),
      );
      const instanceId = run.Instances![0].InstanceId!;
      const running = await waitForState(client, instanceId, "running");
      assert.match(running.PublicIpAddress!, /^127\./, "addresses stay on loopback");
      assert.match(running.PrivateIpAddress!, /^127\./);
      assert.notEqual(running.PublicIpAddress, running.PrivateIpAddress);
      assert.equal(running.KeyName, "kiln-temp");

      for (
        const address of [
          running.PublicIpAddress!,
          running.PrivateIpAddress!,
          running.PublicDnsName!,
        ]
      ) {
        const target = emulator.hostFor(address)!;
        assert.ok(target, `mapping for ${address}`);
        const result = await ssh(
          target.host,
          target.port,
          keyPath,
          "cat $KILN_INSTANCE_ROOT/etc/kiln-source-ami; echo $KILN_INSTANCE_ID",
        );
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, new RegExp(`^${imageId} amzn-ami-hvm`));
        assert.match(result.stdout, new RegExp(instanceId));
      }
      const debug = await (await fetch(`${emulator.endpoint}/_kiln/instances`)).json();
      assert.equal(debug[0].ssh.port, emulator.hostFor(running.PublicIpAddress!)!.port);

      const stranger = await generateKey(dir, "stranger", "ed25519");
      const target = emulator.hostFor(running.PublicIpAddress!)!;
      const refused = await ssh(target.host, target.port, stranger.privateKeyPath, "true");
      assert.notEqual(refused.code, 0, "a key other than the launch key pair is refused");

      const terminated = await client.send(
        new TerminateInstancesCommand({ InstanceIds: [instanceId] }),
      );
      assert.equal(terminated.TerminatingInstances![0].PreviousState!.Name, "running");
      assert.equal(terminated.TerminatingInstances![0].CurrentState!.Name, "shutting-down");
      assert.equal(emulator.hostFor(running.PublicIpAddress!), undefined);
      const after = await ssh(target.host, target.port, keyPath, "true");
      assert.notEqual(after.code, 0, "sshd is gone after terminate");
      const gone = await waitForState(client, instanceId, "terminated");
      assert.equal(gone.PublicIpAddress, undefined);
      await client.send(new DeleteKeyPairCommand({ KeyName: "kiln-temp" }));
      assert.deepEqual(emulator.leaks(), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("DeleteSecurityGroup is a DependencyViolation until the instance using it is terminated", async () => {
  await withEmulator({}, async (_emulator, client) => {
    const group = await client.send(
      new CreateSecurityGroupCommand({ GroupName: "kiln-sg", Description: "temporary" }),
    );
    const run = await client.send(
      new RunInstancesCommand({
        ImageId: await sourceAmi(client),
        MinCount: 1,
        MaxCount: 1,
        SecurityGroupIds: [group.GroupId!],
      }),
    );
    const instanceId = run.Instances![0].InstanceId!;
    assert.equal(run.Instances![0].SecurityGroups![0].GroupId, group.GroupId);
    await assert.rejects(
      client.send(new DeleteSecurityGroupCommand({ GroupId: group.GroupId })),
      (e: Error) => e.name === "DependencyViolation",
    );
    await client.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    await assert.rejects(
      client.send(new DeleteSecurityGroupCommand({ GroupId: group.GroupId })),
      (e: Error) => e.name === "DependencyViolation",
      "still in use while shutting down",
    );
    await waitForState(client, instanceId, "terminated");
    const deleted = await client.send(new DeleteSecurityGroupCommand({ GroupId: group.GroupId }));
    assert.equal(deleted.Return, true);
  });
});

Deno.test("DescribeInstanceStatus, GetPasswordData and placement in a private subnet", async () => {
  await withEmulator({}, async (_emulator, client) => {
    const subnets = await client.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: "tag:Name", Values: ["kiln-private-a"] }] }),
    );
    const subnet = subnets.Subnets![0];
    const run = await client.send(
      new RunInstancesCommand({
        ImageId: await sourceAmi(client),
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnet.SubnetId,
      }),
    );
    const instanceId = run.Instances![0].InstanceId!;
    assert.equal(run.Instances![0].PublicIpAddress, undefined, "no public IP in a private subnet");
    assert.equal(run.Instances![0].VpcId, subnet.VpcId);
    const early = await client.send(
      new DescribeInstanceStatusCommand({ InstanceIds: [instanceId] }),
    );
    assert.deepEqual(early.InstanceStatuses, [], "pending instances are left out by default");
    await waitForState(client, instanceId, "running");
    const status = await client.send(
      new DescribeInstanceStatusCommand({ InstanceIds: [instanceId] }),
    );
    assert.equal(status.InstanceStatuses![0].InstanceStatus!.Status, "ok");
    assert.equal(status.InstanceStatuses![0].SystemStatus!.Status, "ok");
    const password = await client.send(new GetPasswordDataCommand({ InstanceId: instanceId }));
    assert.equal(password.InstanceId, instanceId);
    assert.equal(password.PasswordData ?? "", "");
    await client.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    await waitForState(client, instanceId, "terminated");
  });
});

Deno.test("RequestSpotInstances is fulfilled with a spot instance; cancel leaves the instance running", async () => {
  await withEmulator({}, async (emulator, client) => {
    const requested = await client.send(
      new RequestSpotInstancesCommand({
        SpotPrice: "0.05",
        InstanceCount: 1,
        LaunchSpecification: { ImageId: await sourceAmi(client), InstanceType: "m3.medium" },
        TagSpecifications: [{
          ResourceType: "spot-instances-request",
          Tags: [{ Key: "kiln:run", Value: "r" }],
        }],
      }),
    );
    const requestId = requested.SpotInstanceRequests![0].SpotInstanceRequestId!;
    assert.equal(requested.SpotInstanceRequests![0].State, "open");
    const active = await waitFor("spot fulfilment", async () => {
      const out = await client.send(
        new DescribeSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [requestId] }),
      );
      const r = out.SpotInstanceRequests![0];
      return r.State === "active" ? r : undefined;
    });
    assert.equal(active.Status!.Code, "fulfilled");
    const instance = await describe(client, active.InstanceId!);
    assert.equal(instance.InstanceLifecycle, "spot");
    assert.equal(instance.SpotInstanceRequestId, requestId);
    const cancelled = await client.send(
      new CancelSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [requestId] }),
    );
    assert.equal(cancelled.CancelledSpotInstanceRequests![0].State, "cancelled");
    assert.deepEqual(
      emulator.leaks(),
      [active.InstanceId],
      "the spot instance outlives its request",
    );
    await client.send(new TerminateInstancesCommand({ InstanceIds: [active.InstanceId!] }));
    await waitForState(client, active.InstanceId!, "terminated");
    assert.deepEqual(emulator.leaks(), []);
  });
});

Deno.test("with sshPort set, an instance answers at the very address and port DescribeInstances implies", async () => {
  const sshPort = freePort();
  await withEmulator({ sshPort }, async (emulator, client) => {
    const dir = await Deno.makeTempDir();
    try {
      const key = await client.send(new CreateKeyPairCommand({ KeyName: "direct" }));
      await Deno.writeTextFile(`${dir}/direct.pem`, key.KeyMaterial!, { mode: 0o600 });
      const run = await client.send(
        new RunInstancesCommand({
          ImageId: await sourceAmi(client),
          MinCount: 1,
          MaxCount: 1,
          KeyName: "direct",
        }),
      );
      // The instance keeps the key it was launched with, as on EC2.
      await client.send(new DeleteKeyPairCommand({ KeyName: "direct" }));
      const instance = await waitForState(client, run.Instances![0].InstanceId!, "running");
      assert.deepEqual(emulator.hostFor(instance.PrivateIpAddress!), {
        host: instance.PrivateIpAddress,
        port: sshPort,
      });
      for (const address of [instance.PublicIpAddress!, instance.PrivateIpAddress!]) {
        const result = await ssh(address, sshPort, `${dir}/direct.pem`, "echo $KILN_INSTANCE_ID");
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout.trim(), instance.InstanceId);
      }
      await client.send(new TerminateInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("with sshReadyMs, sshd comes up only some time after the instance is running", async () => {
  await withEmulator({ sshReadyMs: 3000 }, async (emulator, client) => {
    const dir = await Deno.makeTempDir();
    try {
      const key = await client.send(new CreateKeyPairCommand({ KeyName: "late-ssh" }));
      await Deno.writeTextFile(`${dir}/k.pem`, key.KeyMaterial!, { mode: 0o600 });
      const run = await client.send(
        new RunInstancesCommand({
          ImageId: await sourceAmi(client),
          MinCount: 1,
          MaxCount: 1,
          KeyName: "late-ssh",
        }),
      );
      const instance = await waitForState(client, run.Instances![0].InstanceId!, "running");
      assert.equal(emulator.hostFor(instance.PublicIpAddress!), undefined, "no sshd yet");
      const target = await waitFor(
        "sshd",
        () => Promise.resolve(emulator.hostFor(instance.PublicIpAddress!)),
      );
      const result = await ssh(target.host, target.port, `${dir}/k.pem`, "true");
      assert.equal(result.code, 0, result.stderr);
      await client.send(new TerminateInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});
