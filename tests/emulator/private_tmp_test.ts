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
import { processesIn, startSshd, waitForPort } from "../support/sshd.ts";
import { ssh, waitFor, withEmulator } from "./helpers.ts";
import { type Ec2EmulatorHandle, INSTANCE_VISIBLE_DIR } from "../support/ec2/mod.ts";

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

/** Whether a process still runs (a zombie counts as gone). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

async function anyAlive(pids: number[]): Promise<number[]> {
  const out: number[] = [];
  for (const pid of pids) if (await alive(pid)) out.push(pid);
  return out;
}

Deno.test("two instances writing the same /tmp path each keep their own file, the host sees neither", async () => {
  let emulatorDir = "";
  // What ran in each instance's namespace (its number alone is reused once the namespace is gone).
  const inside: number[][] = [];
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
        "setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $!",
      );
      assert.equal(daemon.code, 0, daemon.stderr);
      const namespaces: string[] = [];
      for (const twin of twins) {
        const ns = emulator.emulator.instances.get(twin.instanceId)!.sshd!.mountNamespace();
        assert.ok(ns, "instance sshd runs in a mount namespace of its own");
        namespaces.push(ns);
        inside.push(await processesIn(ns));
      }
      assert.notEqual(namespaces[0], namespaces[1]);
      assert.ok(inside[0].includes(Number(daemon.stdout.trim())), "the daemon is in the namespace");
      await client.send(new TerminateInstancesCommand({ InstanceIds: [first.instanceId] }));
      await waitFor("first terminated", () => {
        const i = emulator.instances().find((i) => i.instanceId === first.instanceId)!;
        return Promise.resolve(i.state === "terminated" ? i : undefined);
      });
      assert.equal(await exists(first.tmpDir), false, "its /tmp went with it");
      assert.deepEqual(await anyAlive(inside[0]), [], "nothing of it runs, the daemon included");
      assert.ok(await exists(second.tmpDir), "the other instance keeps its /tmp");
      // The other instance is left running: closing the emulator must clean it up.
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
  assert.equal(await exists(emulatorDir), false, "the emulator's directory is gone");
  assert.ok(!emulatorDir.startsWith("/tmp/"), "instances must reach it: it is outside /tmp");
  assert.deepEqual(await anyAlive(inside[1]), [], "no process outlives the emulator");
  assert.ok(!(await hostMounts()).includes(emulatorDir), "no instance /tmp is mounted on the host");
});

Deno.test("stopping a private-/tmp sshd never touches one started meanwhile (namespace numbers are reused)", async () => {
  const base = await Deno.makeTempDir({ dir: INSTANCE_VISIBLE_DIR, prefix: "kiln-ns-reuse-" });
  const tmp = (n: number) => Deno.mkdir(`${base}/tmp-${n}`).then(() => `${base}/tmp-${n}`);
  try {
    let previous = await startSshd({ privateTmp: await tmp(0), parentDir: base });
    for (let round = 1; round <= 15; round++) {
      // The kernel hands the number of the namespace just freed to the next new one.
      const [, next] = await Promise.all([
        previous.stop(),
        tmp(round).then((dir) => startSshd({ privateTmp: dir, parentDir: base })),
      ]);
      await new Promise((r) => setTimeout(r, 30));
      const ns = next.mountNamespace();
      assert.ok(ns && (await processesIn(ns)).length > 0, `round ${round}: sshd was killed`);
      await waitForPort(next.port, 1000);
      previous = next;
    }
    await previous.stop();
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
