/**
 * Each emulated instance has a /tmp of its own, as two EC2 machines do: two
 * builds bundling under the same `image-{{timestamp}}` prefix must not read,
 * overwrite or delete each other's files. Its /tmp goes with the instance, and
 * nothing of it (directory, mount, process) outlives termination or the
 * emulator.
 */
import assert from "node:assert/strict";
import {
  CreateKeyPairCommand,
  DescribeImagesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { processesIn } from "../support/sshd.ts";
import { ssh, waitFor, withEmulator } from "./helpers.ts";
import type { Ec2EmulatorHandle } from "../support/ec2/mod.ts";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** The host's mount table, as `findmnt` would list it. */
function hostMounts(): Promise<string> {
  return Deno.readTextFile("/proc/self/mountinfo");
}

function running(emulator: Ec2EmulatorHandle) {
  return emulator.instances().filter((i) => i.state === "running" && i.ssh);
}

Deno.test("two instances writing the same /tmp path each keep their own file, the host sees neither", async () => {
  let emulatorDir = "";
  const namespaces: string[] = [];
  await withEmulator({}, async (emulator, client) => {
    emulatorDir = emulator.emulator.dir;
    const dir = await Deno.makeTempDir();
    try {
      const key = await client.send(new CreateKeyPairCommand({ KeyName: "twins" }));
      const keyPath = `${dir}/twins.pem`;
      await Deno.writeTextFile(keyPath, key.KeyMaterial!, { mode: 0o600 });
      const images = await client.send(
        new DescribeImagesCommand({ Filters: [{ Name: "name", Values: ["amzn-ami-*"] }] }),
      );
      await client.send(
        new RunInstancesCommand({
          ImageId: images.Images![0].ImageId,
          MinCount: 2,
          MaxCount: 2,
          KeyName: "twins",
        }),
      );
      const twins = await waitFor("two running instances", () => {
        const up = running(emulator);
        return Promise.resolve(up.length === 2 ? up : undefined);
      });
      const probe = `/tmp/kiln-same-path-${crypto.randomUUID()}`;
      for (const twin of twins) {
        const listed = await ssh(twin.ssh!.host, twin.ssh!.port, keyPath, "ls -A /tmp");
        assert.equal(listed.code, 0, listed.stderr);
        assert.equal(listed.stdout, "", "a fresh instance's /tmp is empty");
        const wrote = await ssh(
          twin.ssh!.host,
          twin.ssh!.port,
          keyPath,
          `echo "$KILN_INSTANCE_ID" > ${probe} && stat -c %a /tmp`,
        );
        assert.equal(wrote.code, 0, wrote.stderr);
        assert.equal(wrote.stdout.trim(), "1777", "/tmp is world-writable and sticky, as usual");
      }
      for (const twin of twins) {
        const read = await ssh(twin.ssh!.host, twin.ssh!.port, keyPath, `cat ${probe}`);
        assert.equal(read.stdout.trim(), twin.instanceId, "each instance reads its own file");
        const onHost = `${twin.tmpDir}${probe.slice("/tmp".length)}`;
        assert.equal((await Deno.readTextFile(onHost)).trim(), twin.instanceId);
      }
      assert.equal(await exists(probe), false, "the host's /tmp never sees an instance's file");

      // A daemon that left the session's process tree still dies with its instance.
      const [first, second] = twins;
      const daemon = await ssh(
        first.ssh!.host,
        first.ssh!.port,
        keyPath,
        "setsid sleep 600 </dev/null >/dev/null 2>&1 & echo started",
      );
      assert.equal(daemon.code, 0, daemon.stderr);
      for (const twin of twins) {
        const ns = emulator.emulator.instances.get(twin.instanceId)!.sshd!.mountNamespace();
        assert.ok(ns, "instance sshd runs in a mount namespace of its own");
        namespaces.push(ns);
      }
      assert.notEqual(namespaces[0], namespaces[1]);
      await client.send(new TerminateInstancesCommand({ InstanceIds: [first.instanceId] }));
      await waitFor("first terminated", () => {
        const i = emulator.instances().find((i) => i.instanceId === first.instanceId)!;
        return Promise.resolve(i.state === "terminated" ? i : undefined);
      });
      assert.equal(await exists(first.tmpDir), false, "its /tmp went with it");
      assert.deepEqual(await processesIn(namespaces[0]), [], "nothing runs in its namespace");
      assert.ok(await exists(second.tmpDir), "the other instance keeps its /tmp");
      // The other instance is left running: closing the emulator must clean it up.
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
  assert.equal(await exists(emulatorDir), false, "the emulator's directory is gone");
  assert.ok(!emulatorDir.startsWith("/tmp/"), "instances must reach it: it is outside /tmp");
  assert.deepEqual(await processesIn(namespaces[1]), [], "no process outlives the emulator");
  assert.ok(!(await hostMounts()).includes(emulatorDir), "no instance /tmp is mounted on the host");
});
