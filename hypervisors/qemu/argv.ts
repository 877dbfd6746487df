/**
 * The qemu command line Packer's qemu builder runs, and its `qemuargs`
 * merge rules.
 *
 * Packer builds a default value (or list of values) per switch, then merges
 * the template's `qemuargs`:
 *
 * - each `qemuargs` row is `[switch, ...parts]`; the parts are joined with no
 *   separator into one value; an empty value adds the switch alone
 *   (`["--no-acpi", ""]`);
 * - a switch given in `qemuargs` replaces Packer's default for that switch
 *   entirely (every row of it is kept, in order); switches it does not give
 *   keep their defaults;
 * - when `-device` was given and none of its values mentions `net_device`,
 *   `<net_device>,netdev=user.0` is appended to it (so the default network
 *   still has a device);
 * - every switch is written once per value, `-switch value`.
 *
 * Interpolation of `qemuargs` (`{{ .HTTPIP }}`, `{{ .SSHHostPort }}`, ...)
 * is the caller's, before calling {@link qemuArgv}. Packer writes the
 * switches in Go map order, which is random; kiln writes them in the order
 * Packer fills its defaults, then new `qemuargs` switches in template order.
 *
 * Deliberate differences from Packer (see the fixtures of
 * tests/hypervisors/qemu/argv_test.ts for the full comparison):
 *
 * - the communicator's `hostfwd` binds 127.0.0.1 (Packer: every interface);
 * - `-vnc ...,password=on` (Packer's `,password` is deprecated by qemu);
 * - a comma in a file path is doubled, as qemu's option syntax requires
 *   (Packer writes it as is, and qemu then misreads the option).
 */
import { type Accelerator, machineOption } from "./accel.ts";

/** A value inside a qemu `-opt a=b,c=d` string: a literal comma is written twice. */
export function qemuOptValue(value: string): string {
  return value.replaceAll(",", ",,");
}

/**
 * What the command line is made of: the builder's settled configuration
 * (defaults applied) plus what earlier steps decided (ports, paths).
 * Template option names are given in brackets.
 */
export interface QemuArgvOptions {
  /** [vm_name], default `packer-<build name>`: `-name`. */
  vmName: string;
  /** [machine_type], default "pc". */
  machineType: string;
  /** [accelerator], already resolved (see accel.ts for the default). */
  accelerator: Accelerator;
  /** [memory] in MiB, default 512: `-m <n>M`. */
  memoryMiB: number;
  /** [cpus], [sockets], [cores], [threads] (0 or absent: not set). */
  smp?: { cpus?: number; sockets?: number; cores?: number; threads?: number };
  /** [cpu_model]: `-cpu`. */
  cpuModel?: string;
  /** [disk_image]: boot the disk (`-boot c`) instead of the ISO (`-boot once=d`). */
  diskImage: boolean;
  /** The disks: the main one first, then [disk_additional_size]'s. */
  disks: string[];
  /** [format]: "qcow2" or "raw". */
  format: string;
  /** [disk_interface], default "virtio". */
  diskInterface: string;
  /** [disk_cache], default "writeback". */
  diskCache: string;
  /** [disk_discard], default "ignore". */
  diskDiscard: string;
  /** [disk_detect_zeroes], default "off" (then not written at all). */
  detectZeroes: string;
  /** [net_device], default "virtio-net". */
  netDevice: string;
  /** [net_bridge]: a bridge instead of user-mode networking. */
  netBridge?: string;
  /** The installation ISO (when not [disk_image]). */
  isoPath?: string;
  /** The CD made from [cd_files]/[cd_content]. */
  cdPath?: string;
  /** [cdrom_interface] ("" or absent: qemu's default). */
  cdromInterface?: string;
  /** The floppy image made from [floppy_files]: `-fda`. */
  floppyPath?: string;
  /** The forwarded communicator port; absent for communicator "none". */
  communicator?: { hostPort: number; guestPort: number };
  /** The VNC server: [vnc_bind_address], the TCP port chosen, [vnc_use_password]. */
  vnc: { bindAddress: string; port: number; password: boolean };
  /** [headless]. */
  headless: boolean;
  /** [display] ("none" or absent: Packer's gtk unless [use_default_display]). */
  display?: string;
  /** [use_default_display]. */
  useDefaultDisplay?: boolean;
  /** [qmp_enable] (also implied by [vnc_use_password] and [net_bridge]) with [qmp_socket_path]. */
  qmpSocket?: string;
  /** [firmware], loaded with `-bios`, or as a read-only pflash drive when [use_pflash]. */
  firmware?: string;
  usePflash?: boolean;
  /** [efi_boot]: the OVMF code file and this build's copy of the vars file. */
  efi?: { code: string; vars: string };
  /** [vtpm]: the swtpm socket and [tpm_device_type] (default "tpm-tis"). */
  vtpm?: { socketPath: string; deviceType: string };
  /** [vga]. */
  vga?: string;
  /** [qemuargs], interpolated. */
  qemuargs?: readonly (readonly string[])[];
}

/** Packer's switches in the order it fills its defaults (kiln's output order). */
const DEFAULT_ORDER = [
  "-boot",
  "-qmp",
  "-name",
  "-machine",
  "-bios",
  "-netdev",
  "-vnc",
  "-m",
  "-smp",
  "-cpu",
  "-fda",
  "-display",
  "-chardev",
  "-tpmdev",
  "-vga",
  "-device",
  "-drive",
];

/** Packer's defaults: one value or a list per switch. */
export function defaultArgs(options: QemuArgvOptions): Map<string, string[]> {
  const args = new Map<string, string[]>();
  const set = (key: string, value: string) => args.set(key, [value]);
  if (!options.efi) set("-boot", options.diskImage ? "c" : "once=d");
  if (options.qmpSocket) set("-qmp", `unix:${options.qmpSocket},server,nowait`);
  set("-name", options.vmName);
  set("-machine", machineOption(options.machineType, options.accelerator));
  if (options.firmware && !options.usePflash) set("-bios", options.firmware);
  set("-netdev", netdev(options));
  const display = options.vnc.port - 5900;
  set(
    "-vnc",
    `${options.vnc.bindAddress}:${display}${options.vnc.password ? ",password=on" : ""}`,
  );
  set("-m", `${options.memoryMiB}M`);
  set("-smp", smp(options.smp ?? {}));
  if (options.cpuModel) set("-cpu", options.cpuModel);
  if (options.floppyPath) set("-fda", options.floppyPath);
  if (!options.headless) {
    if (options.display && options.display !== "none") set("-display", options.display);
    else if (!options.useDefaultDisplay) set("-display", "gtk");
  }
  if (options.vtpm) {
    set("-chardev", `socket,id=vtpm,path=${qemuOptValue(options.vtpm.socketPath)}`);
    set("-tpmdev", "emulator,id=tpm0,chardev=vtpm");
  }
  if (options.vga) set("-vga", options.vga);
  const { devices, drives } = devicesAndDrives(options);
  args.set("-device", devices);
  args.set("-drive", drives);
  return args;
}

function netdev(options: QemuArgvOptions): string {
  if (options.netBridge) return `bridge,id=user.0,br=${options.netBridge}`;
  if (!options.communicator) return "user,id=user.0";
  const { hostPort, guestPort } = options.communicator;
  return `user,id=user.0,hostfwd=tcp:127.0.0.1:${hostPort}-:${guestPort}`;
}

/**
 * `-smp` as Packer writes it: the cpu count (or the topology's product when
 * only a topology is given, capped by it when both are), then the topology.
 */
export function smp(
  config: { cpus?: number; sockets?: number; cores?: number; threads?: number },
): string {
  const sockets = config.sockets ?? 0;
  const cores = config.cores ?? 0;
  const threads = config.threads ?? 0;
  let total = sockets;
  if (cores > 0 && total > 0) total *= cores;
  if (total === 0) total = cores;
  if (threads > 0 && total !== 0) total *= threads;
  if (total === 0) total = threads;
  let cpus = config.cpus ?? 0;
  if (total === 0 && cpus === 0) return "1";
  if (cpus === 0) cpus = total;
  if (cpus > total && total !== 0) cpus = total;
  let out = String(cpus);
  if (sockets > 0) out += `,sockets=${sockets}`;
  if (cores > 0) out += `,cores=${cores}`;
  if (threads > 0) out += `,threads=${threads}`;
  return out;
}

function devicesAndDrives(options: QemuArgvOptions): { devices: string[]; drives: string[] } {
  const devices: string[] = [];
  const drives: string[] = [];
  let scsiIndex = 0;
  const common =
    `cache=${options.diskCache},discard=${options.diskDiscard},format=${options.format}`;
  options.disks.forEach((path, i) => {
    const file = qemuOptValue(path);
    let drive = `file=${file},if=${options.diskInterface},${common}`;
    if (options.diskInterface === "virtio-scsi") {
      // As Packer: one controller, every disk on its bus 0.
      if (scsiIndex === 0) devices.push("virtio-scsi-pci,id=scsi0");
      devices.push(`scsi-hd,bus=scsi0.0,drive=drive${i}`);
      drive = `if=none,file=${file},id=drive${i},${common}`;
      scsiIndex++;
    }
    if (options.detectZeroes !== "off") drive += `,detect-zeroes=${options.detectZeroes}`;
    drives.push(drive);
  });
  devices.push(`${options.netDevice},netdev=user.0`);

  const cds = [
    ...(!options.diskImage && options.isoPath ? [options.isoPath] : []),
    ...(options.cdPath ? [options.cdPath] : []),
  ];
  cds.forEach((path, i) => {
    const file = qemuOptValue(path);
    const iface = options.cdromInterface ?? "";
    if (iface === "") {
      drives.push(`file=${file},media=cdrom`);
    } else if (iface === "virtio-scsi") {
      if (scsiIndex === 0) devices.push("virtio-scsi-pci,id=scsi0");
      drives.push(`file=${file},if=none,index=${scsiIndex},id=cdrom${i},media=cdrom`);
      devices.push("virtio-scsi-device", `scsi-cd,drive=cdrom${i}`);
      scsiIndex++;
    } else {
      drives.push(`file=${file},if=${iface},index=${i},id=cdrom${i},media=cdrom`);
    }
  });

  if (options.firmware && options.usePflash) {
    drives.push(`file=${qemuOptValue(options.firmware)},if=pflash,format=raw,readonly=on`);
  }
  if (options.efi) {
    drives.push(`file=${qemuOptValue(options.efi.code)},if=pflash,unit=0,format=raw,readonly=on`);
    drives.push(`file=${qemuOptValue(options.efi.vars)},if=pflash,unit=1,format=raw`);
  }
  if (options.vtpm) devices.push(`${options.vtpm.deviceType},tpmdev=tpm0`);
  return { devices, drives };
}

/**
 * Merges `qemuargs` into `defaults` by Packer's rules (see the module doc):
 * the switches and their values, in output order.
 */
export function mergeQemuArgs(
  defaults: Map<string, string[]>,
  qemuargs: readonly (readonly string[])[],
  netDevice: string,
): Map<string, string[]> {
  const given = new Map<string, string[]>();
  for (const row of qemuargs) {
    if (row.length === 0) continue;
    const [key, ...parts] = row;
    const value = parts.join("");
    const values = given.get(key) ?? [];
    if (value !== "") values.push(value);
    given.set(key, values);
  }
  const merged = new Map<string, string[]>();
  for (const key of DEFAULT_ORDER) {
    const values = given.get(key) ?? defaults.get(key);
    if (values !== undefined) merged.set(key, [...values]);
  }
  for (const [key, values] of defaults) if (!merged.has(key)) merged.set(key, [...values]);
  for (const [key, values] of given) if (!merged.has(key)) merged.set(key, [...values]);
  const devices = merged.get("-device");
  if (devices && !devices.join("").includes(netDevice)) {
    devices.push(`${netDevice},netdev=user.0`);
  }
  return merged;
}

/** The switches flattened: `-switch value` per value, a switch without values alone. */
export function flattenArgs(args: Map<string, string[]>): string[] {
  const out: string[] = [];
  for (const [key, values] of args) {
    if (values.length === 0) out.push(key);
    for (const value of values) out.push(key, value);
  }
  return out;
}

/** qemu's arguments (without the binary) for `options`, `qemuargs` merged in. */
export function qemuArgv(options: QemuArgvOptions): string[] {
  return flattenArgs(
    mergeQemuArgs(defaultArgs(options), options.qemuargs ?? [], options.netDevice),
  );
}
