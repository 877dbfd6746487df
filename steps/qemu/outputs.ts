/**
 * What each step of the qemu builder records (its logged output) and the
 * ids they are logged under. Later steps, and a resumed process, read
 * earlier outputs from here; nothing in them is secret.
 */
import type { StepContext } from "../../runtime/types.ts";
import type { QemuIdentity } from "../../hypervisors/qemu/process.ts";

/** Step ids, in the order the builder runs them. */
export const QEMU_STEP = {
  workspace: "qemu.workspace",
  outputDir: "qemu.output_directory",
  source: "qemu.source",
  floppy: "qemu.floppy",
  cd: "qemu.cd",
  disk: "qemu.disk",
  http: "qemu.http",
  ports: "qemu.ports",
  run: "qemu.run",
  shutdown: "qemu.shutdown",
  convert: "qemu.convert",
} as const;

/** The run's work directory for this build: socket, qemu's log, boot media. */
export interface WorkspaceOutput {
  dir: string;
}

/** The output directory (absolute) and whether this run made it. */
export interface OutputDirOutput {
  dir: string;
}

/** The ISO or disk image the build boots (absolute path). */
export interface SourceOutput {
  path: string;
  url: string;
  source: "in-place" | "cache" | "downloaded";
  bytes: number;
}

/** A boot medium made for the guest. */
export interface MediaOutput {
  path: string;
  files: string[];
}

/** The disks in the output directory, the main one first. */
export interface DiskOutput {
  disks: string[];
  /** This build's copy of the OVMF vars (efi_boot). */
  efiVars?: string;
}

/** Where the guest reaches the build's HTTP server. */
export interface HttpOutput {
  /** The address as the guest sees it (qemu's user network: 10.0.2.2). */
  ip: string;
  port: number;
  /** The address the server listened on. */
  bindAddress: string;
}

/** Host ports chosen for the guest. */
export interface PortsOutput {
  /** Forwarded to the guest's communicator port; 0 when none. */
  hostPort: number;
  guestPort: number;
  /** The VNC server's TCP port; 0 with disable_vnc. */
  vncPort: number;
  vncPassword: boolean;
}

/** The running VM. */
export interface RunOutput {
  identity: QemuIdentity;
  accelerator: string;
}

/** The finished disk. */
export interface ConvertOutput {
  disk: string;
  converted: boolean;
}

/** The output of an earlier step; throws when it has not run (a builder bug). */
export function outputOf<T>(ctx: StepContext, id: string): T {
  const out = ctx.state[id] as T | undefined;
  if (out === undefined) throw new Error(`qemu builder: step ${id} has not run`);
  return out;
}

/** The output of an earlier step that the builder may have left out. */
export function optionalOutput<T>(ctx: StepContext, id: string): T | undefined {
  return ctx.state[id] as T | undefined;
}
