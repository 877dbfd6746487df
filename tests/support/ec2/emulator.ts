/**
 * The emulator's state and the services the actions share: ids, tags,
 * eventual-consistency visibility, timers for state transitions, and the
 * per-request context (region from the SigV4 credential scope).
 */
import type { S3Store } from "../s3/store.ts";
import { IamStore } from "../iam/store.ts";
import { Ec2Error } from "./errors.ts";
import { FaultInjector, type FaultOptions } from "./faults.ts";
import type {
  Fleet,
  Image,
  Instance,
  KeyPair,
  LaunchTemplate,
  Reservation,
  SecurityGroup,
  Snapshot,
  SpotRequest,
  Subnet,
  Volume,
  Vpc,
} from "./model.ts";
import type { Tag } from "./query.ts";
import { SeededRandom } from "./random.ts";

/** Timing knobs (milliseconds). Tests keep them at a few hundred ms. */
export interface Ec2Timing {
  /** pending → running (default 300). */
  pendingMs?: number;
  /** shutting-down → terminated (default 200). */
  shuttingDownMs?: number;
  /** Registered/copied image pending → available (default 200). */
  imagePendingMs?: number;
  /** Spot request open → active with a launched instance (default 100). */
  spotFulfilMs?: number;
  /** How long after `running` the instance's sshd starts (default 0: it already listens). */
  sshReadyMs?: number;
  /**
   * How long a new IAM instance profile (or one whose role changed) is
   * refused by launches, as IAM changes reach EC2 late (default 300).
   */
  iamPropagationMs?: number;
}

/** Options of an emulator instance. */
export interface Ec2EmulatorOptions extends Ec2Timing {
  /** Account id of the caller (default 123456789012). */
  accountId?: string;
  /** Seed for generated ids (default 1). */
  seed?: number;
  /** Fault switches (live: `emulator.faults.options` may be changed later). */
  faults?: FaultOptions;
  /** Regions that exist (default: a handful of real region names). */
  regions?: string[];
  /**
   * A port every instance's sshd also listens on at its own addresses — 22
   * makes the instance reachable exactly as on EC2 (needs root and the port
   * free on those addresses). Default: only an ephemeral port, see `hostFor`.
   */
  sshPort?: number;
  /**
   * Second octet of the instances' private addresses (16..127); public ones
   * use it + 128. Default: random, so concurrent emulators do not collide.
   */
  addressBlock?: number;
}

/** One EC2/STS request as the emulator answered it. */
export interface RequestRecord {
  seq: number;
  action: string;
  region: string;
  /** The form parameters as sent (EC2 requests carry no secrets: the signature is a header). */
  params: Record<string, string>;
  status: number;
  /** Error code, when the answer was an error (injected faults included). */
  error?: string;
}

/** Per-request facts. */
export interface RequestContext {
  region: string;
  requestId: string;
  accountId: string;
}

/** The default regions. */
export const DEFAULT_REGIONS = [
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
  "eu-west-1",
  "eu-central-1",
  "ap-southeast-2",
];

/** Resource type names DescribeTags reports, by id prefix. */
const RESOURCE_TYPES: [string, string][] = [
  ["i-", "instance"],
  ["ami-", "image"],
  ["sg-", "security-group"],
  ["key-", "key-pair"],
  ["vpc-", "vpc"],
  ["subnet-", "subnet"],
  ["sir-", "spot-instances-request"],
  ["lt-", "launch-template"],
  ["fleet-", "fleet"],
  ["vol-", "volume"],
  ["snap-", "snapshot"],
];

/** The resource type of an id, e.g. `instance` for `i-...`. */
export function resourceTypeOf(id: string): string | undefined {
  return RESOURCE_TYPES.find(([prefix]) => id.startsWith(prefix))?.[1];
}

function portFree(hostname: string, port: number): boolean {
  try {
    Deno.listen({ hostname, port }).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Where the emulator keeps its files (instance roots, sshd directories, each
 * instance's /tmp) and where a test puts files an instance must reach: an
 * instance sees the host's file system except /tmp, which is its own.
 */
export const INSTANCE_VISIBLE_DIR = "/var/tmp";

/** State of one emulator. */
export class Ec2Emulator {
  readonly accountId: string;
  readonly regions: string[];
  readonly timing: Required<Ec2Timing>;
  readonly faults: FaultInjector;
  readonly images = new Map<string, Image>();
  readonly instances = new Map<string, Instance>();
  readonly reservations = new Map<string, Reservation>();
  readonly keyPairs = new Map<string, KeyPair>();
  readonly securityGroups = new Map<string, SecurityGroup>();
  readonly vpcs = new Map<string, Vpc>();
  readonly subnets = new Map<string, Subnet>();
  readonly spotRequests = new Map<string, SpotRequest>();
  readonly launchTemplates = new Map<string, LaunchTemplate>();
  readonly fleets = new Map<string, Fleet>();
  /** EBS volumes (launches of EBS mappings) and snapshots (CreateImage, CopyImage). */
  readonly volumes = new Map<string, Volume>();
  readonly snapshots = new Map<string, Snapshot>();
  /** IAM roles and instance profiles (served on the same port, see tests/support/iam). */
  readonly iam: IamStore;
  readonly tags = new Map<string, Map<string, string>>();
  /** EC2 calls received, by action (faulted ones included). */
  readonly calls = new Map<string, number>();
  /** The most recent requests (up to 5000), oldest first. */
  readonly requests: RequestRecord[] = [];
  /** Launch counter (instances ever launched). */
  launches = 0;
  /** Port the instances' sshd also listens on at their own addresses, if any. */
  readonly sshPort?: number;
  readonly #addressBlock: number;
  #addresses = 0;
  /** Where bundles are uploaded; RegisterImage reads manifests from here. */
  s3?: S3Store;
  /** Directory for instance roots, sshd directories and private /tmp directories. */
  dir = "";
  /** Directory holding the stand-in bundle tools put on the instances' PATH. */
  toolsDir = "";
  /** Endpoint the instances' ec2-upload-bundle talks to. */
  s3Endpoint = "";
  #hidden = new Map<string, number>();
  #ids: SeededRandom;
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #tasks = new Set<Promise<unknown>>();
  #wakers = new Set<() => void>();
  #closed = false;

  constructor(options: Ec2EmulatorOptions = {}) {
    this.accountId = options.accountId ?? "123456789012";
    this.regions = options.regions ?? DEFAULT_REGIONS;
    this.timing = {
      pendingMs: options.pendingMs ?? 300,
      shuttingDownMs: options.shuttingDownMs ?? 200,
      imagePendingMs: options.imagePendingMs ?? 200,
      spotFulfilMs: options.spotFulfilMs ?? 100,
      sshReadyMs: options.sshReadyMs ?? 0,
      iamPropagationMs: options.iamPropagationMs ?? 300,
    };
    this.iam = new IamStore(this.accountId, this.timing);
    this.faults = new FaultInjector(options.faults ?? {});
    this.#ids = new SeededRandom(options.seed ?? 1);
    this.sshPort = options.sshPort;
    this.#addressBlock = options.addressBlock ?? 16 + Math.floor(Math.random() * 112);
    if (this.#addressBlock < 16 || this.#addressBlock > 127) {
      throw new Error(`addressBlock must be within 16..127, got ${this.#addressBlock}`);
    }
  }

  /**
   * The next instance's loopback addresses: private `127.B.x.y` and public
   * `127.(B+128).x.y`. With a fixed `sshPort`, addresses where that port is
   * taken are skipped.
   */
  allocateAddresses(): { privateIp: string; publicIp: string } {
    for (let tries = 0; tries < 1000; tries++) {
      const n = this.#addresses++;
      const hi = Math.floor(n / 250) % 256;
      const lo = (n % 250) + 2;
      const privateIp = `127.${this.#addressBlock}.${hi}.${lo}`;
      const publicIp = `127.${this.#addressBlock + 128}.${hi}.${lo}`;
      if (
        !this.sshPort || (portFree(privateIp, this.sshPort) && portFree(publicIp, this.sshPort))
      ) {
        return { privateIp, publicIp };
      }
    }
    throw new Ec2Error("InsufficientInstanceCapacity", "no free loopback address for an instance");
  }

  /** A new EC2-style id: `prefix-` and 17 hex digits (8 for spot requests, a UUID for fleets). */
  newId(prefix: string): string {
    if (prefix === "fleet") {
      const h = this.#ids.hex(32);
      return `fleet-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${
        h.slice(20)
      }`;
    }
    return `${prefix}-${this.#ids.hex(prefix === "sir" ? 8 : 17)}`;
  }

  /** Makes a new resource invisible to the next N lookups when the consistency fault is on. */
  created(id: string): void {
    const n = this.faults.options.invisibleForDescribes ?? 0;
    if (n > 0) this.#hidden.set(id, n);
  }

  /** Whether a lookup sees the resource now; each hidden lookup uses up one unit of delay. */
  visible(id: string): boolean {
    const left = this.#hidden.get(id);
    if (!left) return true;
    if (left <= 1) this.#hidden.delete(id);
    else this.#hidden.set(id, left - 1);
    return false;
  }

  /** The tags of a resource (live map). */
  tagsOf(id: string): Map<string, string> {
    let tags = this.tags.get(id);
    if (!tags) this.tags.set(id, tags = new Map());
    return tags;
  }

  /** Adds or overwrites tags. */
  applyTags(id: string, tags: Tag[]): void {
    const map = this.tagsOf(id);
    for (const { key, value } of tags) map.set(key, value);
  }

  /** A resource's tags as the `tagSet` XML list (omitted when empty, as EC2 does). */
  tagSet(id: string): { key: string; value: string }[] | undefined {
    const tags = this.tags.get(id);
    if (!tags || tags.size === 0) return undefined;
    return [...tags].map(([key, value]) => ({ key, value }));
  }

  /** Runs `fn` after `ms` unless the emulator closes first. */
  after(ms: number, fn: () => void | Promise<void>): void {
    if (this.#closed) return;
    const id = setTimeout(() => {
      this.#timers.delete(id);
      if (!this.#closed) this.track(Promise.resolve().then(fn));
    }, ms);
    this.#timers.add(id);
  }

  /** Appends to the request log, dropping the oldest beyond 5000 entries. */
  record(entry: Omit<RequestRecord, "seq">): void {
    const last = this.requests[this.requests.length - 1];
    this.requests.push({ seq: (last?.seq ?? 0) + 1, ...entry });
    if (this.requests.length > 5000) this.requests.shift();
  }

  /** Resolves after `ms`, or at once when the emulator shuts down (so nothing waits forever). */
  sleep(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const id = setTimeout(() => {
        this.#timers.delete(id);
        this.#wakers.delete(wake);
        resolve();
      }, ms);
      const wake = () => {
        clearTimeout(id);
        this.#timers.delete(id);
        resolve();
      };
      this.#timers.add(id);
      this.#wakers.add(wake);
    });
  }

  /** Keeps a background task so `close()` can wait for it; its failure is logged, not thrown. */
  track(task: Promise<unknown>): void {
    const guarded = task.catch((err) => console.error(`ec2 emulator background task: ${err}`));
    this.#tasks.add(guarded);
    guarded.finally(() => this.#tasks.delete(guarded));
  }

  /** True once `shutdown()` began. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Stops timers and waits for background work. */
  async shutdown(): Promise<void> {
    this.#closed = true;
    for (const id of this.#timers) clearTimeout(id);
    this.#timers.clear();
    for (const wake of this.#wakers) wake();
    this.#wakers.clear();
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
  }

  /** The region must be one the emulator knows. */
  checkRegion(region: string): void {
    if (!this.regions.includes(region)) {
      throw new Ec2Error(
        "AuthFailure",
        `AWS was not able to validate the provided access credentials (unknown region '${region}')`,
        401,
      );
    }
  }
}
