/**
 * Boots a test guest under qemu the way the qemu builder will: TCG (KVM is
 * never assumed: on this machine kind /dev/kvm exists but guests hang in it),
 * user-mode networking with SSH forwarded from 127.0.0.1 only, a QMP socket,
 * and the first serial port written to a log file. The handle waits for
 * serial lines and SSH, runs commands, types keys, and stops the VM.
 */
import { freePort } from "../sshd.ts";
import { alive } from "../processes.ts";
import { typeText } from "./keyboard.ts";
import { connectQmp, type QmpClient } from "./qmp.ts";
import { type SshResult, sshRun, type SshTarget } from "./ssh_client.ts";

/**
 * What to boot and how: a disk `image`, an `iso` (with or without a disk,
 * which it then boots before), or a `kernel` (with or without a disk).
 */
export interface BootOptions {
  /** A disk image to boot from (raw or qcow2, told by its extension unless `imageFormat` says). */
  image?: string;
  imageFormat?: "raw" | "qcow2";
  /** Disk bus: `virtio` (Packer's default) or `ide`. */
  diskInterface?: "virtio" | "ide";
  /**
   * Write guest changes to a throwaway overlay (qemu `snapshot=on`), leaving
   * the image as it was: the default, since cached images are shared.
   */
  snapshot?: boolean;
  /** An ISO to boot from (`-cdrom`, `-boot d`). */
  iso?: string;
  /** A kernel (and initrd) booted directly, with `append` as its command line. */
  kernel?: string;
  initrd?: string;
  append?: string;
  /** More CD-ROMs, e.g. a cloud-init `cidata` seed. */
  cdroms?: string[];
  memoryMiB?: number;
  cpus?: number;
  /** Host port forwarded to the guest's port 22 on 127.0.0.1 (default: a free one). */
  sshPortOnLoopback?: number;
  /** Where the serial log and QMP socket go (default: a temporary directory removed by stop()). */
  workDir?: string;
  /**
   * Add a virtio-rng device (default true): guests' random pools are ready at
   * once instead of waiting a second or more for jitter entropy under TCG.
   */
  entropyDevice?: boolean;
  /** Extra qemu arguments, appended last. */
  extraArgs?: string[];
}

/** A running guest. */
export interface GuestHandle {
  pid: number;
  sshPort: number;
  serialLog: string;
  qmpSocket: string;
  /** The full qemu command line. */
  argv: string[];
  /** performance.now() when qemu was started. */
  startedAt: number;
  /** Resolves when qemu exits. */
  exited: Promise<Deno.CommandStatus>;
  /** Everything the guest wrote to its serial port so far. */
  serialText(): Promise<string>;
  /**
   * Waits for `pattern` in the serial log; returns the match and the ms since
   * start. Only complete lines count (the guest may be halfway through the
   * last one) unless `partialLine` is set, for prompts that wait on their line.
   */
  waitForSerial(
    pattern: RegExp,
    timeoutMs?: number,
    partialLine?: boolean,
  ): Promise<{ match: RegExpMatchArray; ms: number }>;
  /** Waits until `ssh user@127.0.0.1 true` succeeds; returns the ms since start. */
  waitForSsh(login: Omit<SshTarget, "port">, timeoutMs?: number): Promise<number>;
  /** Runs a command in the guest over SSH. */
  ssh(login: Omit<SshTarget, "port">, command: string): Promise<SshResult>;
  /** The QMP session (opened on first use). */
  qmp(): Promise<QmpClient>;
  /** Types `text` on the guest keyboard through QMP send-key (`\n` is Enter). */
  type(text: string): Promise<void>;
  /** Waits for qemu to exit on its own; null when it is still running at the deadline. */
  waitForExit(timeoutMs?: number): Promise<Deno.CommandStatus | null>;
  /** qemu's stderr so far. */
  stderr(): string;
  /** Ends qemu (QMP quit, then SIGKILL) if still running, and removes a temporary work directory. */
  stop(): Promise<void>;
}

function driveFormat(options: BootOptions): string {
  if (options.imageFormat) return options.imageFormat;
  return options.image!.endsWith(".qcow2") ? "qcow2" : "raw";
}

function qemuArgs(
  options: BootOptions,
  port: number,
  serialLog: string,
  qmpSocket: string,
): string[] {
  if (options.iso && options.kernel) {
    throw new Error("bootGuest: give an iso or a kernel, not both");
  }
  if (!options.image && !options.iso && !options.kernel) {
    throw new Error("bootGuest: give an image, an iso or a kernel to boot");
  }
  const args = [
    "-name",
    "kiln-test-guest,process=kiln-test-guest",
    "-machine",
    "pc",
    "-accel",
    "tcg",
    "-m",
    String(options.memoryMiB ?? 512),
    "-smp",
    String(options.cpus ?? 1),
    "-display",
    "none",
    "-monitor",
    "none",
    "-serial",
    `file:${serialLog}`,
    "-qmp",
    `unix:${qmpSocket},server=on,wait=off`,
    "-netdev",
    `user,id=net0,hostfwd=tcp:127.0.0.1:${port}-:22`,
    "-device",
    "virtio-net-pci,netdev=net0",
  ];
  if (options.entropyDevice ?? true) args.push("-device", "virtio-rng-pci");
  if (options.image) {
    const snapshot = options.snapshot ?? true ? ",snapshot=on" : "";
    const bus = options.diskInterface ?? "virtio";
    const format = driveFormat(options);
    args.push("-drive", `file=${options.image},if=${bus},format=${format}${snapshot}`);
  }
  // A disk boots unless an ISO is there to boot first (an installer and its target).
  if (options.iso) args.push("-cdrom", options.iso, "-boot", "d");
  else if (options.image) args.push("-boot", "c");
  if (options.kernel) {
    args.push("-kernel", options.kernel, "-append", options.append ?? "");
    if (options.initrd) args.push("-initrd", options.initrd);
  }
  for (const cdrom of options.cdroms ?? []) {
    args.push("-drive", `file=${cdrom},media=cdrom,readonly=on`);
  }
  return [...args, ...(options.extraArgs ?? [])];
}

/** Starts qemu; retries on another port when the forwarded one was taken meanwhile. */
export async function bootGuest(options: BootOptions): Promise<GuestHandle> {
  const ownWorkDir = options.workDir === undefined;
  const workDir = options.workDir ?? await Deno.makeTempDir({ prefix: "kiln-guest-" });
  for (let attempt = 1;; attempt++) {
    const port = options.sshPortOnLoopback ?? freePort();
    const handle = await start(options, port, workDir, ownWorkDir);
    const early = await handle.waitForExit(300);
    if (early === null) return handle;
    const said = handle.stderr();
    await handle.stop();
    if (
      said.includes("host forwarding") && options.sshPortOnLoopback === undefined && attempt < 5
    ) continue;
    throw new Error(
      `qemu exited at once (code ${early.code}): ${said.trim()}\n${handle.argv.join(" ")}`,
    );
  }
}

async function start(
  options: BootOptions,
  port: number,
  workDir: string,
  ownWorkDir: boolean,
): Promise<GuestHandle> {
  await Deno.mkdir(workDir, { recursive: true });
  const serialLog = `${workDir}/serial.log`;
  const qmpSocket = `${workDir}/qmp.sock`;
  await Deno.remove(serialLog).catch(() => {});
  await Deno.remove(qmpSocket).catch(() => {});
  const argv = ["qemu-system-x86_64", ...qemuArgs(options, port, serialLog, qmpSocket)];
  const startedAt = performance.now();
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const pumped = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) stderr = (stderr + decoder.decode(chunk)).slice(-8192);
  })();
  const exited = child.status.then(async (status) => {
    await pumped;
    return status;
  });
  let exitStatus: Deno.CommandStatus | null = null;
  exited.then((s) => exitStatus = s);
  let qmpClient: Promise<QmpClient> | undefined;
  const login = (l: Omit<SshTarget, "port">): SshTarget => ({ ...l, port });

  const serialText = async () => {
    try {
      return new TextDecoder().decode(await Deno.readFile(serialLog));
    } catch {
      return "";
    }
  };
  const tail = async () => (await serialText()).split("\n").slice(-20).join("\n");
  const waitForExit = async (timeoutMs = 60_000) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((r) => timer = setTimeout(() => r(null), timeoutMs));
    const result = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    return result;
  };

  const handle: GuestHandle = {
    pid: child.pid,
    sshPort: port,
    serialLog,
    qmpSocket,
    argv,
    startedAt,
    exited,
    serialText,
    async waitForSerial(pattern, timeoutMs = 60_000, partialLine = false) {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        const text = await serialText();
        const match = (partialLine ? text : text.slice(0, text.lastIndexOf("\n") + 1)).match(
          pattern,
        );
        if (match) return { match, ms: performance.now() - startedAt };
        if (exitStatus) {
          throw new Error(
            `qemu exited (code ${exitStatus.code}) before ${pattern} on the serial port:\n${await tail()}\n${stderr}`,
          );
        }
        if (Date.now() > deadline) {
          throw new Error(
            `no ${pattern} on the serial port within ${timeoutMs} ms:\n${await tail()}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async waitForSsh(l, timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      let last: SshResult | undefined;
      while (true) {
        last = await sshRun(login(l), "true", 5);
        if (last.code === 0) return performance.now() - startedAt;
        if (exitStatus) {
          throw new Error(
            `qemu exited (code ${exitStatus.code}) before SSH answered:\n${await tail()}`,
          );
        }
        if (Date.now() > deadline) {
          throw new Error(
            `no SSH login as ${l.user} on 127.0.0.1:${port} within ${timeoutMs} ms (${last.stderr.trim()}):\n${await tail()}`,
          );
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    ssh: (l, command) => sshRun(login(l), command),
    qmp: () => qmpClient ??= connectQmp(qmpSocket),
    async type(text) {
      await typeText(await handle.qmp(), text);
    },
    waitForExit,
    stderr: () => stderr,
    async stop() {
      if (!exitStatus && await alive(child.pid)) {
        // Ask qemu to quit over QMP (it flushes its files); kill it if that does not end it soon.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const gaveUp = new Promise<void>((r) => timer = setTimeout(r, 2_000));
        const quit = handle.qmp().then((qmp) => qmp.execute("quit")).catch(() => {});
        await Promise.race([quit, gaveUp]);
        clearTimeout(timer);
        if (await waitForExit(3_000) === null) {
          try {
            child.kill("SIGKILL");
          } catch { /* exited meanwhile */ }
        }
      }
      await exited;
      const qmp = await qmpClient?.catch(() => undefined);
      try {
        qmp?.close();
      } catch { /* qemu closed it first */ }
      if (ownWorkDir) await Deno.remove(workDir, { recursive: true }).catch(() => {});
    },
  };
  return handle;
}
