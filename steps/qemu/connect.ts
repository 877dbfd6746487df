/**
 * The common connect step aimed at the guest: the communicator reaches
 * 127.0.0.1 on the forwarded host port (or `ssh_host`/`ssh_port` with
 * `skip_nat_mapping`). Two things beyond Packer: waiting for the guest
 * stops at once, with qemu's own words, when the VM exits (Packer waits
 * out `ssh_timeout`); and a resumed process first reattaches to the VM and
 * serves HTTP again before it reconnects.
 */
import { closeCommunicator, type ConnectStep, connectStep } from "../common/connect.ts";
import { openCommunicator } from "../../communicators/mod.ts";
import type { Communicator } from "../../communicators/communicator.ts";
import type { StepContext } from "../../runtime/types.ts";
import { type PortsOutput, QEMU_STEP, type RunOutput } from "./outputs.ts";
import { PROVISION_STEP_ID } from "../common/provision.ts";
import { ensureVm, vmAlive } from "./vm.ts";
import { ensureHttp } from "./http.ts";
import type { QemuIdentity } from "../../hypervisors/qemu/process.ts";

const WATCH_MS = 500;
const LOG_TAIL_BYTES = 2_000;

async function logTail(path: string): Promise<string> {
  try {
    const text = await Deno.readTextFile(path);
    return text.slice(-LOG_TAIL_BYTES).trim();
  } catch {
    return "";
  }
}

/** Rejects when the VM stops running; resolves (never rejects) once `stop` is aborted. */
async function vmExit(identity: QemuIdentity, stop: AbortSignal): Promise<never> {
  while (!stop.aborted) {
    if (!vmAlive(identity)) {
      const said = await logTail(identity.logFile);
      throw new Error(
        `the VM exited while kiln waited for it to accept a connection` +
          (said ? `; qemu said: ${said}` : ""),
      );
    }
    await new Promise((r) => setTimeout(r, WATCH_MS));
  }
  return await new Promise<never>(() => {});
}

/**
 * `ctx` as the common connect step must see it: the communicator's host
 * and port are the forward's (127.0.0.1 and the chosen host port), as
 * Packer's qemu builder sets them, unless there is no forward.
 */
function throughForward(ctx: StepContext, signal: AbortSignal): StepContext {
  const ports = ctx.state[QEMU_STEP.ports] as PortsOutput | undefined;
  const config = ctx.config;
  const forwarded = ports?.hostPort
    ? config.communicator === "winrm"
      ? { winrm_host: config.winrm_host ?? "127.0.0.1", winrm_port: ports.hostPort }
      : { ssh_host: config.ssh_host ?? "127.0.0.1", ssh_port: ports.hostPort }
    : {};
  return Object.create(ctx, {
    signal: { value: signal },
    config: { value: { ...config, ...forwarded } },
  });
}

/** The connect step of the qemu builder. */
export function qemuConnectStep(): ConnectStep {
  const inner = connectStep();
  const prepare = async (ctx: StepContext) => {
    const identity = await ensureVm(ctx);
    await ensureHttp(ctx);
    return identity;
  };
  return {
    ...inner,
    async run(ctx) {
      const identity = await prepare(ctx);
      const watching = new AbortController();
      const connecting = new AbortController();
      const abort = () => connecting.abort(ctx.signal.reason);
      ctx.signal.addEventListener("abort", abort, { once: true });
      const exited = vmExit(identity, watching.signal).catch((err) => {
        connecting.abort(err);
        throw err;
      });
      try {
        return await Promise.race([
          inner.run(throughForward(ctx, connecting.signal)),
          exited,
        ]);
      } finally {
        watching.abort();
        ctx.signal.removeEventListener("abort", abort);
      }
    },
    async reconnect(ctx) {
      // After shutdown there is no guest to reach: the steps left work on the disk.
      if (ctx.state[QEMU_STEP.shutdown]) return await disconnected(ctx);
      // Provisioning done and the VM gone: the shutdown it was in finished its job.
      const run = ctx.state[QEMU_STEP.run] as RunOutput | undefined;
      if (ctx.state[PROVISION_STEP_ID] && run && !vmAlive(run.identity)) {
        return await disconnected(ctx);
      }
      await prepare(ctx);
      return await inner.reconnect(throughForward(ctx, ctx.signal));
    },
  };
}

/**
 * Closes the build's connection and leaves a `none` communicator in its
 * place, so that the steps after shutdown are not reconnected to a guest
 * that is gone (in this process or a resumed one).
 */
export async function disconnected(ctx: StepContext): Promise<Communicator> {
  await closeCommunicator(ctx);
  const none = await openCommunicator("none", {
    config: ctx.config,
    target: { host: "" },
    signal: ctx.signal,
  });
  ctx.runtime?.setComm(none);
  return none;
}
