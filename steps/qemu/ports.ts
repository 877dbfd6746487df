/**
 * Packer's port-forward and VNC steps: a free host port in
 * `host_port_min..host_port_max` forwarded (qemu user networking, bound to
 * 127.0.0.1 only) to the guest's SSH or WinRM port, and a free VNC port in
 * `vnc_port_min..vnc_port_max`. With `vnc_use_password` the password
 * (`vnc_password`, else a random one) is kept in the run's secrets, never
 * in the log or on qemu's command line: it is set over QMP.
 */
import type { Step, StepContext } from "../../runtime/types.ts";
import type { QemuConfig } from "./config.ts";
import { type PortsOutput, QEMU_STEP } from "./outputs.ts";

/** The secret the VNC password is kept under. */
export const VNC_PASSWORD_SECRET = "qemu-vnc-password";

function isFree(hostname: string, port: number): boolean {
  try {
    Deno.listen({ hostname, port }).close();
    return true;
  } catch {
    return false;
  }
}

/** A free port of [min, max] on `hostname`, tried in random order (as Packer). */
export function freePort(hostname: string, min: number, max: number, what: string): number {
  const ports: number[] = [];
  for (let p = min; p <= max; p++) ports.push(p);
  for (let i = ports.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [ports[i], ports[j]] = [ports[j], ports[i]];
  }
  const port = ports.find((p) => isFree(hostname, p));
  if (port === undefined) throw new Error(`no free ${what} port between ${min} and ${max}`);
  return port;
}

/** The guest port the communicator reaches (0 for none). */
export function guestPort(c: QemuConfig): number {
  if (c.communicator === "none") return 0;
  if (c.communicator === "winrm") {
    return Number(c.winrm_port ?? (c.winrm_use_ssl === true ? 5986 : 5985));
  }
  return Number(c.ssh_port ?? 22);
}

function randomPassword(): string {
  const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join("");
}

/** The VNC password of this build (stored at first use, so a resume gets the same). */
export async function vncPassword(ctx: StepContext): Promise<string> {
  const stored = await ctx.secrets.get(VNC_PASSWORD_SECRET);
  if (stored) {
    ctx.secrets.mask(stored);
    return stored;
  }
  const c = ctx.config as unknown as QemuConfig;
  const password = c.vnc_password || randomPassword();
  await ctx.secrets.put(VNC_PASSWORD_SECRET, password);
  return password;
}

/** Chooses the forwarded and VNC ports. */
export function portsStep(): Step<PortsOutput> {
  return {
    id: QEMU_STEP.ports,
    async run(ctx) {
      const c = ctx.config as unknown as QemuConfig;
      const port = guestPort(c);
      let hostPort = 0;
      if (port !== 0 && !c.skip_nat_mapping && !c.net_bridge) {
        ctx.ui.say(
          "Looking for available communicator (SSH, WinRM, etc) port between " +
            `${c.host_port_min} and ${c.host_port_max}`,
        );
        hostPort = freePort("127.0.0.1", c.host_port_min, c.host_port_max, "communicator");
        ctx.ui.say(`Found port for communicator (SSH, WinRM, etc): ${hostPort}.`);
      }
      let vncPort = 0;
      if (!c.disable_vnc) {
        ctx.ui.say(
          "Looking for available port between " +
            `${c.vnc_port_min} and ${c.vnc_port_max} on ${c.vnc_bind_address}`,
        );
        vncPort = freePort(c.vnc_bind_address, c.vnc_port_min, c.vnc_port_max, "VNC");
        if (c.vnc_use_password) await vncPassword(ctx);
      }
      return {
        hostPort,
        guestPort: port,
        vncPort,
        vncPassword: c.vnc_use_password && !c.disable_vnc,
      };
    },
  };
}
