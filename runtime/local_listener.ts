/**
 * A listening socket kiln serves from its own process (the ansible
 * provisioner's SSH proxy) as a ledger resource. The socket lives exactly as
 * long as the process that opened it, so the record names that process (pid,
 * start time, boot id) and the address: after a `kill -9` the listener died
 * with kiln, and `cleanup` only has to confirm that; a record whose process
 * still runs is a live kiln serving it, which cleanup never signals.
 */
import type { ResourceHandler, ResourceRecord } from "./types.ts";
import { DeletionRefused } from "./errors.ts";
import { bootId, liveProcessStart } from "./proc_stat.ts";

/** The ledger kind of a listener served by a kiln process. */
export const LOCAL_LISTENER = "local.listener";

/** The record of a listener this process serves on `host:port`. */
export function listenerRecord(host: string, port: number, purpose: string): ResourceRecord {
  return {
    kind: LOCAL_LISTENER,
    id: `${host}:${port}`,
    data: {
      host,
      port,
      purpose,
      pid: Deno.pid,
      processStart: liveProcessStart(Deno.pid) ?? "",
      bootId: bootId() ?? "",
    },
    temporary: true,
  };
}

/** Whether the process that served the recorded listener still runs. */
export function listenerOwnerAlive(r: ResourceRecord): boolean {
  const d = r.data ?? {};
  if (typeof d.pid !== "number" || typeof d.processStart !== "string") return false;
  if (d.bootId !== bootId()) return false; // another boot: every socket of that one is gone
  return d.processStart !== "" && liveProcessStart(d.pid) === d.processStart;
}

/** Confirms a listener is gone; refuses while the kiln process serving it still runs. */
export const listenerHandler: ResourceHandler = {
  local: true,
  delete(ctx, r) {
    if (listenerOwnerAlive(r)) {
      throw new DeletionRefused(
        `still served by running process ${String(r.data?.pid)}; stop that kiln first`,
      );
    }
    ctx.ui.say(`Listener ${r.id} (${String(r.data?.purpose ?? "")}) ended with its process`);
    return Promise.resolve();
  },
};
