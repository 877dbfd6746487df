/**
 * Instance lifecycle: pending → running once the instance's own sshd listens
 * and the configured delay has passed; terminate → shutting-down (sshd
 * stopped) → terminated. Each instance gets its own loopback addresses (see
 * `Ec2Emulator.allocateAddresses`) with its sshd listening there and on
 * 127.0.0.1, so a client that connects to the address EC2 reported never
 * leaves the machine.
 */
import { type SshdHandle, startSshd } from "../sshd.ts";
import type { Ec2Emulator } from "./emulator.ts";
import type { Instance } from "./model.ts";
import { releaseVolumes } from "./volumes.ts";

/** AWS-shaped DNS names under the reserved `.invalid` TLD, so nothing ever resolves them. */
export function dnsNamesFor(
  region: string,
  privateIp: string,
  publicIp: string,
): { privateDnsName: string; publicDnsName: string } {
  const dashed = (ip: string) => ip.replaceAll(".", "-");
  const internal = region === "us-east-1" ? "ec2.internal" : `${region}.compute.internal`;
  const external = region === "us-east-1" ? "compute-1" : `${region}.compute`;
  return {
    privateDnsName: `ip-${dashed(privateIp)}.${internal}.invalid`,
    publicDnsName: `ec2-${dashed(publicIp)}.${external}.amazonaws.com.invalid`,
  };
}

/** Writes the instance's stand-in root file system: a few files naming its AMI. */
async function createRootDir(emu: Ec2Emulator, instance: Instance): Promise<void> {
  const image = emu.images.get(instance.imageId);
  await Deno.mkdir(`${instance.rootDir}/etc`, { recursive: true });
  await Deno.writeTextFile(`${instance.rootDir}/etc/hostname`, `${instance.privateDnsName}\n`);
  await Deno.writeTextFile(
    `${instance.rootDir}/etc/kiln-source-ami`,
    `${instance.imageId} ${image?.name ?? ""}\n`,
  );
}

/** The instance's own addresses, on the ephemeral port and, when configured, on `sshPort` too. */
function listenAddresses(emu: Ec2Emulator, instance: Instance): string[] {
  const ips = [
    instance.privateIpAddress,
    ...(instance.publicIpAddress ? [instance.publicIpAddress] : []),
  ];
  return ips.flatMap((ip) => [
    `ListenAddress ${ip}`,
    ...(emu.sshPort ? [`ListenAddress ${ip}:${emu.sshPort}`] : []),
  ]);
}

function gone(emu: Ec2Emulator, instance: Instance): boolean {
  return (instance.state !== "pending" && instance.state !== "running") || emu.closed;
}

/**
 * Starts the instance's sshd, with a /tmp of its own (two builds bundling
 * under the same `image-{{timestamp}}` prefix must not share files, as two
 * EC2 instances never do); false when the instance went away meanwhile.
 */
async function attachSshd(emu: Ec2Emulator, instance: Instance): Promise<boolean> {
  const path = `${emu.toolsDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
  await Deno.mkdir(instance.tmpDir, { recursive: true });
  await Deno.chmod(instance.tmpDir, 0o1777);
  let sshd: SshdHandle;
  try {
    sshd = await startSshd({
      authorizedKeys: instance.authorizedKey ? [instance.authorizedKey] : [],
      extraConfig: listenAddresses(emu, instance),
      env: {
        PATH: path,
        KILN_INSTANCE_ID: instance.instanceId,
        KILN_INSTANCE_ROOT: instance.rootDir,
        KILN_S3_ENDPOINT: emu.s3Endpoint,
        KILN_ACCOUNT_ID: emu.accountId,
        KILN_REGION: instance.region,
      },
      privateTmp: instance.tmpDir,
      parentDir: `${emu.dir}/${instance.instanceId}`,
    });
  } catch (err) {
    // Terminated while sshd was starting: its /tmp may be gone already.
    if (gone(emu, instance)) return false;
    throw err;
  }
  // Terminated (or emulator closed) while sshd was starting: do not leave it behind.
  if (gone(emu, instance)) {
    await stopSshd(sshd);
    await removeTmp(instance);
    return false;
  }
  instance.sshd = sshd;
  if (emu.sshPort) await waitForAddress(instance.privateIpAddress, emu.sshPort);
  return true;
}

function becomeRunning(emu: Ec2Emulator, instance: Instance): boolean {
  if (instance.state !== "pending") return false;
  if ((emu.faults.options.neverRunning ?? []).includes(instance.ordinal)) return false;
  instance.state = "running";
  return true;
}

/**
 * By default sshd already listens when the instance turns `running`; with
 * `sshReadyMs` it starts that long after, as a real guest boots, so a client
 * has to wait for SSH.
 */
async function boot(emu: Ec2Emulator, instance: Instance, delay: Promise<void>): Promise<void> {
  await createRootDir(emu, instance);
  if (emu.timing.sshReadyMs <= 0) {
    if (!await attachSshd(emu, instance)) return;
    await delay;
    becomeRunning(emu, instance);
    return;
  }
  await delay;
  if (!becomeRunning(emu, instance)) return;
  await emu.sleep(emu.timing.sshReadyMs);
  if (instance.state === "running" && !emu.closed) await attachSshd(emu, instance);
}

async function waitForAddress(hostname: string, port: number): Promise<void> {
  for (let attempt = 0;; attempt++) {
    try {
      (await Deno.connect({ hostname, port })).close();
      return;
    } catch (err) {
      if (attempt > 200) {
        throw new Error(`instance sshd does not listen on ${hostname}:${port}: ${err}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

async function stopSshd(sshd: SshdHandle): Promise<void> {
  await sshd.stop();
  await Deno.remove(sshd.dir, { recursive: true }).catch(() => {});
}

/** Its /tmp goes with the instance, as an instance-store machine's does. */
async function removeTmp(instance: Instance): Promise<void> {
  await Deno.remove(instance.tmpDir, { recursive: true }).catch(() => {});
}

/** Starts the boot of a freshly created (pending) instance. */
export function startInstance(emu: Ec2Emulator, instance: Instance): void {
  emu.track(boot(emu, instance, emu.sleep(emu.timing.pendingMs)));
}

/** Begins termination (no-op when already shutting down or terminated). */
export function terminateInstance(emu: Ec2Emulator, instance: Instance): void {
  if (instance.state === "terminated" || instance.state === "shutting-down") return;
  instance.state = "shutting-down";
  instance.stateTransitionReason = `User initiated (${new Date().toISOString()})`;
  instance.stateReason = {
    code: "Client.UserInitiatedShutdown",
    message: "Client.UserInitiatedShutdown: User initiated shutdown",
  };
  const request = instance.spotInstanceRequestId
    ? emu.spotRequests.get(instance.spotInstanceRequestId)
    : undefined;
  if (request && (request.state === "active" || request.state === "cancelled")) {
    // A one-time request closes with its instance, as on EC2.
    request.state = request.state === "active" ? "closed" : request.state;
    request.statusCode = "instance-terminated-by-user";
    request.statusMessage = "Spot Instance terminated due to user-initiated termination.";
    request.updateTime = new Date();
  }
  const sshd = instance.sshd;
  instance.sshd = undefined;
  emu.track((async () => {
    if (sshd) await stopSshd(sshd);
    await removeTmp(instance);
    await emu.sleep(emu.timing.shuttingDownMs);
    instance.state = "terminated";
    releaseVolumes(emu, instance);
  })());
}

/**
 * StopInstances: running → stopping (sshd stopped, as the guest shuts down)
 * → stopped after `shuttingDownMs`. Volumes stay attached; /tmp stays (an
 * EBS root survives a stop).
 */
export function stopInstance(emu: Ec2Emulator, instance: Instance): void {
  if (instance.state !== "running" && instance.state !== "pending") return;
  instance.state = "stopping";
  instance.stateTransitionReason = `User initiated (${new Date().toISOString()})`;
  instance.stateReason = {
    code: "Client.UserInitiatedShutdown",
    message: "Client.UserInitiatedShutdown: User initiated shutdown",
  };
  const sshd = instance.sshd;
  instance.sshd = undefined;
  emu.track((async () => {
    if (sshd) await stopSshd(sshd);
    await emu.sleep(emu.timing.shuttingDownMs);
    if (instance.state === "stopping") instance.state = "stopped";
  })());
}

/** Stops every sshd at emulator shutdown. */
export async function stopAllInstances(emu: Ec2Emulator): Promise<void> {
  for (const instance of emu.instances.values()) {
    const sshd = instance.sshd;
    instance.sshd = undefined;
    if (sshd) await stopSshd(sshd);
    await removeTmp(instance);
  }
}
