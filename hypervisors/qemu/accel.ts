/**
 * Which accelerator qemu should use when the template names none. Packer
 * picks `kvm` when /dev/kvm can be opened, else `tcg` (and `tcg` on
 * Windows). That is not enough: on some machines /dev/kvm opens and qemu
 * accepts `accel=kvm`, yet a guest never gets past its firmware (a nested
 * host whose KVM runs only paravirtualised guests, say). So kiln boots a
 * guest under `-accel kvm` and watches it run: a 512-byte boot sector
 * (`accel_probe.S`) that prints a line on the serial port in real mode,
 * after entering protected mode, in 64-bit long mode with paging on, and
 * once it has written and read back 32 MiB — the first things an x86-64
 * kernel does. KVM is used only when that last line arrives in time.
 *
 * "In time" is measured against the same guest under TCG, probed at the
 * same moment: a working KVM runs it far faster than emulation, so KVM is
 * rejected once TCG has finished and KVM has had a grace period more. A
 * busy machine slows both alike, so it does not reject a working KVM; and a
 * KVM that runs guests slower than emulation is no accelerator. (On a
 * nested host whose KVM is `kvm-pvm`, the probe reaches long mode after
 * about 8 s and finishes after about 30 s, against 0.4 s under TCG; a Linux
 * kernel there never prints its banner.) The answer is cached per boot and
 * per qemu binary.
 */

/** The accelerator names a Packer template may give (`accelerator`). */
export const ACCELERATORS = ["kvm", "tcg", "hvf", "whpx", "xen", "hax", "none"] as const;

/** One of {@link ACCELERATORS}. */
export type Accelerator = typeof ACCELERATORS[number];

/** Whether `name` is an accelerator a template may name. */
export function isAccelerator(name: string): name is Accelerator {
  return (ACCELERATORS as readonly string[]).includes(name);
}

/**
 * The `-machine` value, as Packer writes it: `type=<machine>,accel=<accel>`,
 * and no `accel=` for `none` (qemu's own default then applies).
 */
export function machineOption(machineType: string, accelerator: Accelerator): string {
  return accelerator === "none"
    ? `type=${machineType}`
    : `type=${machineType},accel=${accelerator}`;
}

/** The stages the probe guest announces, in order. */
export type ProbeStage = "real" | "protected" | "long" | "ran";

/** How one probe boot went. */
export interface ProbeResult {
  accelerator: string;
  /** The guest finished its work: the accelerator runs guests. */
  works: boolean;
  /** The last stage the guest announced (none: it never printed). */
  stage?: ProbeStage;
  /** Milliseconds from starting qemu to the verdict. */
  ms: number;
  /** Why it does not work (qemu's words, or what the guest did not do). */
  reason?: string;
}

/** The default accelerator for this machine, and how it was decided. */
export interface AcceleratorChoice {
  accelerator: "kvm" | "tcg";
  /** probe: booted the probe guest now; cache: an earlier probe this boot; platform: no KVM here at all. */
  source: "probe" | "cache" | "platform";
  /** Why kvm is not used (undefined when it is). */
  kvmRejected?: string;
  /** Duration of the probe that decided (0 for platform decisions). */
  probeMs: number;
}

/** How to choose. */
export interface ChooseAcceleratorOptions {
  /** The qemu binary (default qemu-system-x86_64). */
  binary?: string;
  /** Where the per-boot verdicts are kept (a directory; created when missing). */
  cacheDir: string;
  /** Probe again even when a verdict is cached. */
  refresh?: boolean;
  /** KVM's grace after TCG finished the same guest (default 1.5 s). */
  graceMs?: number;
  /** The longest any probe may run (default 20 s). */
  timeoutMs?: number;
  /** The KVM device (default /dev/kvm). */
  kvmDevice?: string;
}

/** The probe boot sector, built from accel_probe.S (see the test that reassembles it). */
const PROBE_CODE = [
  "fa31c08ed88ec08ed0bc007cbe137de81c00e4920c0224fee6920f0116807d0f20c06683c8010f22c0ea3a7c0800",
  "baf803ac84c07403eeebf8c366b810008ed88ec08ed0be257d0000e86e000000bf0010000031c0b9000c0000f3ab",
  "c7050010000003200000c7050020000003300000bf00300000b883000000b9200000008907050000200083c708e2",
  "f4b8001000000f22d80f20e083c8200f22e0b9800000c00f320d000100000f300f20c00d000000800f22c0eac97c",
  "0000180066baf803ac84c07403eeebf8c3be3c7d0000e8e9ffffff48c7c70000000148c7c10000400048b86e6c69",
  "6b6e6c696bf348ab48c7c60000000148c7c1000040004831d248ad4801c2e2f9be4e7d0000e8acfffffff4ebfd4b",
  "494c4e2d50524f42453a7265616c0d0a004b494c4e2d50524f42453a70726f7465637465640d0a004b494c4e2d50",
  "524f42453a6c6f6e670d0a004b494c4e2d50524f42453a72616e0d0a00900000000000000000ffff0000009acf00",
  "ffff00000092cf00ffff0000009aaf001f00607d",
].join("");

/** The 512-byte probe boot sector. */
export function probeBootSector(): Uint8Array {
  const sector = new Uint8Array(512);
  for (let i = 0; i < PROBE_CODE.length / 2; i++) {
    sector[i] = parseInt(PROBE_CODE.slice(i * 2, i * 2 + 2), 16);
  }
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

const STAGE_LINE = /KILN-PROBE:(real|protected|long|ran)/g;
const DEFAULT_GRACE_MS = 1_500;
const DEFAULT_TIMEOUT_MS = 20_000;
/** Even when TCG is quick, KVM gets this long from its start (qemu's own start-up). */
const MIN_KVM_MS = 2_500;

/**
 * Boots the probe guest under `accelerator` and resolves when it finished,
 * qemu exited, or `deadline()` (consulted as time passes) has passed. The
 * guest's qemu is killed in every case.
 */
export async function probeAccelerator(
  accelerator: string,
  options: { binary?: string; timeoutMs?: number; deadline?: () => number } = {},
): Promise<ProbeResult> {
  const binary = options.binary ?? "qemu-system-x86_64";
  const disk = await Deno.makeTempFile({ prefix: "kiln-accel-probe-", suffix: ".img" });
  const start = performance.now();
  const ms = () => Math.round(performance.now() - start);
  try {
    await Deno.writeFile(disk, probeBootSector());
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(binary, {
        args: [
          "-nodefaults",
          "-machine",
          `type=pc,accel=${accelerator}`,
          "-m",
          "64",
          "-display",
          "none",
          "-serial",
          "stdio",
          "-drive",
          `file=${disk.replaceAll(",", ",,")},format=raw,if=ide`,
          "-boot",
          "c",
          "-no-reboot",
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (err) {
      return {
        accelerator,
        works: false,
        ms: ms(),
        reason: `cannot run ${binary}: ${err instanceof Error ? err.message : err}`,
      };
    }
    const stderr = new Response(child.stderr).text();
    let stage: ProbeStage | undefined;
    let outputEnded = false; // qemu closes its stdout only as it exits
    const reading = (async () => {
      let text = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        text += chunk;
        for (const m of text.matchAll(STAGE_LINE)) stage = m[1] as ProbeStage;
        if (stage === "ran") return;
        text = text.slice(-64);
      }
    })().catch(() => {}).finally(() => {
      if (stage !== "ran") outputEnded = true;
    });
    const hardEnd = start + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    while (stage !== "ran" && !outputEnded) {
      const end = Math.min(hardEnd, options.deadline?.() ?? Infinity);
      if (performance.now() >= end) break;
      // Ends the loop once `reading` settled (stage or outputEnded is set by then).
      await Promise.race([reading, sleep(20)]);
    }
    const verdictMs = ms();
    const exitedByItself = outputEnded;
    try {
      child.kill("SIGKILL");
    } catch {
      // Exited in between.
    }
    await reading;
    const { code } = await child.status;
    await reading;
    const said = (await stderr).trim().split("\n").filter((l) => !/warning:/.test(l)).join("; ");
    if (stage === "ran") return { accelerator, works: true, stage, ms: verdictMs };
    if (exitedByItself && code !== 0 && stage === undefined) {
      return {
        accelerator,
        works: false,
        ms: verdictMs,
        reason: `qemu refused accel=${accelerator}: ${said || `exit code ${code}`}`,
      };
    }
    return { accelerator, works: false, stage, ms: verdictMs, reason: stalled(accelerator, stage) };
  } finally {
    await Deno.remove(disk).catch(() => {});
  }
}

function stalled(accelerator: string, stage: ProbeStage | undefined): string {
  switch (stage) {
    case undefined:
      return `a guest under ${accelerator} printed nothing on its serial port: it never got past ` +
        `its firmware`;
    case "real":
      return `a guest under ${accelerator} ran in real mode but stopped entering protected mode`;
    case "protected":
      return `a guest under ${accelerator} reached protected mode but not 64-bit long mode`;
    case "long":
      return `a guest under ${accelerator} reached 64-bit long mode but did not finish writing ` +
        `and reading 32 MiB`;
    case "ran":
      return "";
  }
}

/**
 * Packer's default accelerator, really probed: `kvm` when /dev/kvm opens and
 * the probe guest finishes under it in time, else `tcg`, with the reason. Cached under `cacheDir` per boot and per qemu binary.
 */
export async function defaultAccelerator(
  options: ChooseAcceleratorOptions,
): Promise<AcceleratorChoice> {
  if (Deno.build.os !== "linux") {
    return {
      accelerator: "tcg",
      source: "platform",
      kvmRejected: `KVM exists only on Linux (this is ${Deno.build.os})`,
      probeMs: 0,
    };
  }
  const device = await openKvm(options.kvmDevice ?? "/dev/kvm");
  if (device) return { accelerator: "tcg", source: "platform", kvmRejected: device, probeMs: 0 };
  const binary = options.binary ?? "qemu-system-x86_64";
  const bootId = readBootId();
  const key = await binaryKey(binary);
  const cacheFile = bootId ? `${options.cacheDir}/qemu-accel-${bootId}.json` : undefined;
  if (cacheFile && !options.refresh) {
    const hit = (await readCache(cacheFile))[key];
    if (hit) {
      const { accelerator, kvmRejected, probeMs } = hit;
      return { accelerator, source: "cache", probeMs, ...(kvmRejected ? { kvmRejected } : {}) };
    }
  }
  const choice = await probeKvmAgainstTcg(binary, options);
  if (cacheFile && choice.conclusive) {
    await writeCache(options.cacheDir, cacheFile, key, choice.choice);
  }
  return choice.choice;
}

async function probeKvmAgainstTcg(
  binary: string,
  options: ChooseAcceleratorOptions,
): Promise<{ choice: AcceleratorChoice; conclusive: boolean }> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const grace = options.graceMs ?? DEFAULT_GRACE_MS;
  const start = performance.now();
  let tcgDoneAt: number | undefined;
  let kvmWorked = false;
  const tcgProbe = probeAccelerator("tcg", {
    binary,
    timeoutMs,
    deadline: () => kvmWorked ? 0 : Infinity,
  }).then((r) => {
    tcgDoneAt = performance.now();
    return r;
  });
  const kvm = await probeAccelerator("kvm", {
    binary,
    timeoutMs,
    deadline: () =>
      tcgDoneAt === undefined ? Infinity : Math.max(tcgDoneAt + grace, start + MIN_KVM_MS),
  });
  if (kvm.works) {
    kvmWorked = true; // The TCG probe only served as a yardstick: stop it.
    await tcgProbe;
    return {
      choice: { accelerator: "kvm", source: "probe", probeMs: kvm.ms },
      conclusive: true,
    };
  }
  const tcg = await tcgProbe;
  let reason = kvm.reason ?? "the probe guest did not run";
  if (!tcg.works) {
    // Nothing is proven about KVM when the probe does not run at all: not cached.
    reason += `; the probe did not run under tcg either: ${tcg.reason}`;
  } else if (kvm.reason?.startsWith("a guest")) {
    reason += ` (waited ${kvm.ms} ms; the same guest under tcg finished in ${tcg.ms} ms)`;
  }
  return {
    choice: { accelerator: "tcg", source: "probe", kvmRejected: reason, probeMs: kvm.ms },
    conclusive: tcg.works,
  };
}

/** Why the KVM device cannot be used, or undefined when it opens read-write. */
async function openKvm(device: string): Promise<string | undefined> {
  try {
    const file = await Deno.open(device, { read: true, write: true });
    file.close();
    return undefined;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return `${device} does not exist (no KVM module loaded, or no hardware virtualisation)`;
    }
    if (err instanceof Deno.errors.PermissionDenied) {
      return `${device} cannot be opened: permission denied (join the kvm group)`;
    }
    return `${device} cannot be opened: ${err instanceof Error ? err.message : err}`;
  }
}

type CacheEntry = Omit<AcceleratorChoice, "source"> & { probedAt: string };

/** A qemu binary as the cache knows it: where it resolves and which build it is. */
async function binaryKey(binary: string): Promise<string> {
  let path = binary;
  if (!binary.includes("/")) {
    for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
      try {
        const candidate = `${dir}/${binary}`;
        if ((await Deno.stat(candidate)).isFile) {
          path = candidate;
          break;
        }
      } catch {
        // Not in this directory.
      }
    }
  }
  try {
    const real = await Deno.realPath(path);
    const info = await Deno.stat(real);
    return `${real}:${info.size}:${info.mtime?.getTime() ?? 0}`;
  } catch {
    return binary;
  }
}

function readBootId(): string | undefined {
  try {
    return Deno.readTextFileSync("/proc/sys/kernel/random/boot_id").trim() || undefined;
  } catch {
    return undefined;
  }
}

async function readCache(file: string): Promise<Record<string, CacheEntry>> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(file));
    return parsed && typeof parsed === "object" ? parsed : {};
  } catch {
    return {}; // Missing or damaged: probe again.
  }
}

async function writeCache(
  dir: string,
  file: string,
  key: string,
  choice: AcceleratorChoice,
): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
    // Verdicts of earlier boots say nothing any more.
    for await (const e of Deno.readDir(dir)) {
      if (/^qemu-accel-.*\.json$/.test(e.name) && `${dir}/${e.name}` !== file) {
        await Deno.remove(`${dir}/${e.name}`).catch(() => {});
      }
    }
    const entries = await readCache(file);
    const { source: _source, ...rest } = choice;
    entries[key] = { ...rest, probedAt: new Date().toISOString() };
    const tmp = `${file}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(tmp, JSON.stringify(entries, null, 2) + "\n");
    await Deno.rename(tmp, file);
  } catch {
    // A cache that cannot be written costs a probe next time, nothing more.
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
