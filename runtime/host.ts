/**
 * Which machine this is, as the log records it. Files, processes and VMs a
 * run makes exist only on the machine that made them; with a shared run
 * store another machine may resume or clean up the run, and it must leave
 * those alone rather than act on whatever it finds at the same path or pid.
 * The machine id (systemd's, stable across reboots) tells machines apart;
 * the host name is there for people (and where no machine id exists).
 */
import { hostname } from "node:os";

let cached: string | undefined;

/**
 * This machine: `hostname/machine-id` (just the host name without a machine
 * id). KILN_HOST names it instead, for runners that share a machine id
 * (containers started from one image) or a test that plays two machines.
 */
export function thisHost(): string {
  const named = Deno.env.get("KILN_HOST");
  if (named) return named;
  if (cached) return cached;
  let id = "";
  for (const file of ["/etc/machine-id", "/var/lib/dbus/machine-id"]) {
    try {
      id = Deno.readTextFileSync(file).trim();
      if (id) break;
    } catch {
      // Try the next.
    }
  }
  cached = id ? `${hostname()}/${id}` : hostname();
  return cached;
}

/** The host name part of a recorded host, for messages. */
export function hostName(host: string): string {
  return host.split("/")[0];
}
