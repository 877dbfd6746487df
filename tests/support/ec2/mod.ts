/**
 * An EC2 Query-API emulator for tests: real `@aws-sdk/client-ec2` calls work
 * against it unchanged (`endpoint: handle.endpoint`, dummy credentials), its
 * instances are real sshd processes on loopback addresses, bundles go to a
 * sibling S3 emulator, and faults (throttling, 5xx bursts, eventual
 * consistency, lost responses, stuck instances, ignored ClientToken) can be
 * switched on per emulator.
 *
 * ```ts
 * const ec2 = await startEc2Emulator({ pendingMs: 200 });
 * try {
 *   const client = new EC2Client({ endpoint: ec2.endpoint, region: "us-east-1", credentials });
 *   // ...
 *   assertEquals(ec2.leaks(), []);
 * } finally {
 *   await ec2.close();
 * }
 * ```
 */
import { type S3Emulator, startS3Emulator } from "../s3/mod.ts";
import {
  Ec2Emulator,
  type Ec2EmulatorOptions,
  INSTANCE_VISIBLE_DIR,
  type RequestRecord,
} from "./emulator.ts";
import type { FaultOptions } from "./faults.ts";
import { hostFor, type InstanceView, instanceViews, type Ledger, ledgerOf } from "./ledger.ts";
import { stopAllInstances } from "./lifecycle.ts";
import { seed } from "./seed.ts";
import { handle } from "./server.ts";

export type { Ec2EmulatorOptions, Ec2Timing, RequestRecord } from "./emulator.ts";
export { INSTANCE_VISIBLE_DIR } from "./emulator.ts";
export type { FailCall, FaultOptions, ServerErrorBurst } from "./faults.ts";
export type { InstanceView, Ledger } from "./ledger.ts";
export {
  addImage,
  AMAZON_OWNER_ID,
  CANONICAL_OWNER_ID,
  type ExtraImage,
  SEED_IMAGES,
} from "./seed.ts";

/** Options of `startEc2Emulator`. */
export interface StartEc2Options extends Ec2EmulatorOptions {
  /** An S3 emulator to use (default: a new one, closed with this emulator). */
  s3?: S3Emulator;
  /** Buckets the new S3 emulator starts with. */
  buckets?: string[];
}

/** A running EC2 emulator. */
export interface Ec2EmulatorHandle {
  /** `http://127.0.0.1:PORT`: the SDK's `endpoint` and the builder's `custom_endpoint_ec2`. */
  endpoint: string;
  port: number;
  /** The S3 emulator bundles are uploaded to. */
  s3: S3Emulator;
  /** The live fault switches. */
  faults: FaultOptions;
  /** The emulator's state, for assertions beyond the ledger. */
  emulator: Ec2Emulator;
  /**
   * Where to SSH for an instance address (any of its IPs or DNS names): a
   * loopback host and the port of its sshd; undefined when nothing runs there.
   */
  hostFor(address: string): { host: string; port: number } | undefined;
  /** Live resources (same as `GET /_kiln/state`). */
  ledger(): Ledger;
  /** Instances with their SSH addresses (same as `GET /_kiln/instances`). */
  instances(): InstanceView[];
  /** The EC2/STS requests received, oldest first (same as `GET /_kiln/requests`). */
  requests(): RequestRecord[];
  /** Ids of everything still alive that a build should have removed; `[]` means no leak. */
  leaks(): string[];
  /** Stops every instance's sshd, the HTTP server(s) and removes temp files. */
  close(): Promise<void>;
}

const TOOLS_DIR = new URL("../bundle_tools/", import.meta.url).pathname.replace(/\/$/, "");

/** Starts an EC2 emulator (and an S3 one) on 127.0.0.1. */
export async function startEc2Emulator(options: StartEc2Options = {}): Promise<Ec2EmulatorHandle> {
  const emu = new Ec2Emulator(options);
  seed(emu);
  const ownS3 = !options.s3;
  const s3 = options.s3 ?? await startS3Emulator({ buckets: options.buckets });
  emu.s3 = s3.store;
  emu.s3Endpoint = s3.endpoint;
  emu.dir = await Deno.makeTempDir({ dir: INSTANCE_VISIBLE_DIR, prefix: "kiln-ec2-" });
  // Copied where instances can see them: a checkout under /tmp is hidden by
  // each instance's private /tmp.
  emu.toolsDir = `${emu.dir}/bin`;
  await Deno.mkdir(emu.toolsDir);
  for await (const entry of Deno.readDir(TOOLS_DIR)) {
    if (!entry.isFile) continue;
    await Deno.copyFile(`${TOOLS_DIR}/${entry.name}`, `${emu.toolsDir}/${entry.name}`);
    await Deno.chmod(`${emu.toolsDir}/${entry.name}`, 0o755);
  }
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => handle(emu, request),
  );
  const port = server.addr.port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    s3,
    faults: emu.faults.options,
    emulator: emu,
    hostFor: (address) => hostFor(emu, address),
    ledger: () => ledgerOf(emu, s3.store),
    instances: () => instanceViews(emu),
    requests: () => [...emu.requests],
    leaks: () => {
      const l = ledgerOf(emu, s3.store);
      return [
        ...l.instances.map((i) => i.instanceId),
        ...l.keyPairs.map((k) => k.keyPairId),
        ...l.securityGroups.map((g) => g.groupId),
        ...l.images.map((i) => i.imageId),
        ...l.snapshots.map((s) => s.snapshotId),
        ...l.volumes.map((v) => v.volumeId),
        ...l.spotRequests.map((r) => r.spotInstanceRequestId),
        ...l.launchTemplates.map((t) => t.launchTemplateId),
        ...l.iamRoles.map((r) => r.arn),
        ...l.instanceProfiles.map((p) => p.arn),
        ...l.s3Objects.map((o) => `s3://${o}`),
      ];
    },
    close: async () => {
      await server.shutdown();
      await emu.shutdown();
      await stopAllInstances(emu);
      if (ownS3) await s3.close();
      await Deno.remove(emu.dir, { recursive: true }).catch(() => {});
    },
  };
}
