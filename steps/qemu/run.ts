/**
 * Packer's run step, made durable: qemu starts detached (a `kill -9` of
 * kiln leaves the guest running), its identity is in the ledger before it
 * may run, and the boot command is typed. The VM is a temporary resource:
 * the shutdown step ends it on success; failure, Ctrl-C and `kiln cleanup`
 * power it off.
 *
 * An interrupted run step (a crash while qemu started or while the boot
 * command was typed) is settled from the logged identity: a VM that runs
 * and needs no boot command is adopted as it is; one whose boot command
 * may be half-typed is stopped and started afresh, since keys cannot be
 * un-typed; one that never ran is started.
 */
import { join, resolve } from "node:path";
import type { Step, StepContext } from "../../runtime/types.ts";
import type { QemuConfig } from "./config.ts";
import { type Accelerator, defaultAccelerator } from "../../hypervisors/qemu/accel.ts";
import { qemuArgv, type QemuArgvOptions } from "../../hypervisors/qemu/argv.ts";
import { findByIdentity, startQemu, stopQemu } from "../../hypervisors/qemu/process.ts";
import {
  type DiskOutput,
  type HttpOutput,
  type MediaOutput,
  optionalOutput,
  type OutputDirOutput,
  outputOf,
  type PortsOutput,
  QEMU_STEP,
  type RunOutput,
  type SourceOutput,
  type WorkspaceOutput,
} from "./outputs.ts";
import { qmpSocketIn } from "./workspace.ts";
import { identityIn, markStarted, VM_KIND, vmTag } from "./vm.ts";
import { bootAndType, typesAtBoot } from "./boot.ts";
import { vncPassword } from "./ports.ts";

/** Where the accelerator probe keeps its verdict (once per boot of the host). */
export function kilnCacheDir(): string {
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  return join(xdg || join(Deno.env.get("HOME") ?? "/tmp", ".cache"), "kiln");
}

async function chooseAccelerator(ctx: StepContext, c: QemuConfig): Promise<Accelerator> {
  if (c.accelerator) return c.accelerator as Accelerator;
  const choice = await defaultAccelerator({ binary: c.qemu_binary, cacheDir: kilnCacheDir() });
  if (choice.kvmRejected) ctx.ui.message(`Using tcg: ${choice.kvmRejected}`);
  return choice.accelerator;
}

/** The data `qemuargs` are rendered with (Packer's). */
function argsData(ctx: StepContext, c: QemuConfig, ports: PortsOutput): Record<string, unknown> {
  const http = optionalOutput<HttpOutput>(ctx, QEMU_STEP.http);
  return {
    HTTPIP: http?.ip ?? "",
    HTTPPort: http?.port ?? 0,
    HTTPDir: c.http_directory ?? "",
    OutputDir: c.output_directory,
    Name: c.vm_name,
    SSHHostPort: ports.hostPort,
  };
}

/** The qemu command line's parts for this build. */
export function argvOptions(
  ctx: StepContext,
  c: QemuConfig,
  accelerator: Accelerator,
): QemuArgvOptions {
  const ports = outputOf<PortsOutput>(ctx, QEMU_STEP.ports);
  const disks = outputOf<DiskOutput>(ctx, QEMU_STEP.disk);
  const source = outputOf<SourceOutput>(ctx, QEMU_STEP.source);
  const data = argsData(ctx, c, ports);
  return {
    vmName: c.vm_name,
    machineType: c.machine_type,
    accelerator,
    memoryMiB: c.memory,
    smp: { cpus: c.cpus, sockets: c.sockets, cores: c.cores, threads: c.threads },
    cpuModel: c.cpu_model,
    diskImage: c.disk_image,
    disks: disks.disks,
    format: c.format,
    diskInterface: c.disk_interface,
    diskCache: c.disk_cache,
    diskDiscard: c.disk_discard,
    detectZeroes: c.disk_detect_zeroes,
    netDevice: c.net_device,
    netBridge: c.net_bridge,
    isoPath: c.disk_image ? undefined : source.path,
    cdPath: optionalOutput<MediaOutput>(ctx, QEMU_STEP.cd)?.path,
    cdromInterface: c.cdrom_interface,
    floppyPath: optionalOutput<MediaOutput>(ctx, QEMU_STEP.floppy)?.path,
    communicator: ports.hostPort
      ? { hostPort: ports.hostPort, guestPort: ports.guestPort }
      : undefined,
    vnc: {
      bindAddress: c.vnc_bind_address,
      port: ports.vncPort || c.vnc_port_min,
      password: ports.vncPassword,
    },
    headless: c.headless,
    display: c.display,
    useDefaultDisplay: c.use_default_display,
    qmpSocket: c.qmp_enable && c.qmp_socket_path ? resolve(c.qmp_socket_path) : undefined,
    firmware: c.firmware,
    usePflash: c.use_pflash,
    efi: disks.efiVars ? { code: String(c.efi_firmware_code), vars: disks.efiVars } : undefined,
    vga: c.vga,
    qemuargs: c.qemuargs.map((row) => row.map((part) => ctx.render(part, data))),
  };
}

async function start(ctx: StepContext): Promise<RunOutput> {
  const c = ctx.config as unknown as QemuConfig;
  const { dir } = outputOf<WorkspaceOutput>(ctx, QEMU_STEP.workspace);
  outputOf<OutputDirOutput>(ctx, QEMU_STEP.outputDir);
  const ports = outputOf<PortsOutput>(ctx, QEMU_STEP.ports);
  const accelerator = await chooseAccelerator(ctx, c);
  const args = qemuArgv(argvOptions(ctx, c, accelerator));
  const tag = vmTag(ctx.runId, ctx.buildName);
  ctx.ui.say("Starting VM, booting " + (c.disk_image ? "disk image" : "from CD-ROM"));
  const started = await startQemu({
    binary: c.qemu_binary,
    args,
    tag,
    qmpSocket: qmpSocketIn(dir),
    logFile: join(dir, "qemu.log"),
    // Write-ahead: the VM is in the ledger before qemu may run.
    beforeStart: (identity) => ctx.intent({ kind: VM_KIND, token: tag, data: { identity } }),
  });
  const identity = started.identity;
  await ctx.created({ kind: VM_KIND, id: tag, data: { identity }, temporary: true });
  markStarted(ctx);
  await ctx.emit("VmStarted", { argv: started.argv, accelerator, pid: identity.pid });
  try {
    if (ports.vncPassword) {
      await started.qmp.execute("change-vnc-password", { password: await vncPassword(ctx) });
    }
  } finally {
    // qemu serves one client per socket: holding it would lock out cleanup's power-off.
    started.qmp.close();
  }
  if (c.headless && ports.vncPort) {
    ctx.ui.say(
      "The VM will be run headless, without a GUI. If you want to view the screen of the VM, " +
        `connect via VNC ${
          ports.vncPassword ? "with the password in the run's secrets" : "without a password"
        } to ` +
        `vnc://${c.vnc_bind_address}:${ports.vncPort}`,
    );
  }
  return { identity, accelerator };
}

/** Starts the VM and types the boot command. */
export function runStep(): Step<RunOutput> {
  return {
    id: QEMU_STEP.run,
    async run(ctx) {
      const out = await start(ctx);
      await bootAndType(ctx, outputOf<PortsOutput>(ctx, QEMU_STEP.ports), () =>
        ctx.intent({
          kind: VM_KIND,
          token: out.identity.tag,
          data: { identity: out.identity, bootCommandTyped: true },
        }));
      return out;
    },
    async reconcile(ctx, intents) {
      const c = ctx.config as unknown as QemuConfig;
      const logged = intents.filter((i) => i.kind === VM_KIND).at(-1);
      const identity = identityIn(logged?.data);
      if (!logged || !identity) return undefined;
      const live = findByIdentity(identity);
      // A boot command typed to the end counts as done: the VM carries on as it is.
      if (live.alive && (!typesAtBoot(c) || logged.data?.bootCommandTyped === true)) {
        await ctx.created({ kind: VM_KIND, id: logged.token, data: { identity }, temporary: true });
        const accelerator = await chooseAccelerator(ctx, c);
        ctx.ui.say(`The VM started before the interruption runs on (pid ${identity.pid})`);
        return { identity, accelerator };
      }
      if (live.alive) {
        ctx.ui.say(
          "The VM was interrupted while its boot command was typed: stopping it to boot afresh",
        );
        await stopQemu(identity, { graceful: false });
      }
      await ctx.deleted({ kind: VM_KIND, id: logged.token });
      return undefined;
    },
  };
}
