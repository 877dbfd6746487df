/**
 * The connect step: opens the communicator named by `config.communicator`
 * and fills the build data provisioners see through `{{build ...}}`. Its
 * output holds only where to connect (no secrets), so a resumed process can
 * reconnect with `ensureCommunicator` instead of running the step again.
 */
import type { Step, StepContext } from "../../runtime/types.ts";
import { type ConnectTarget, openCommunicator } from "../../communicators/mod.ts";
import type { Communicator } from "../../communicators/communicator.ts";

/** The step id builders list it under. */
export const CONNECT_STEP_ID = "common.connect";

/** What the connect step records. */
export interface ConnectOutput {
  type: string;
  host: string;
  port: number;
  user: string;
  id: string;
  /** Stable across resume: Packer's PackerRunUUID. */
  runUuid: string;
}

/** How a builder tells the connect step where the machine is. */
export interface ConnectStepOptions {
  /** Target from the outputs of earlier steps (e.g. the instance's address); config.ssh_host wins. */
  target?(ctx: StepContext): ConnectTarget | undefined;
  /** Private key of a temporary key pair the builder created (from ctx.secrets). */
  privateKey?(ctx: StepContext): Promise<string | undefined>;
  /** Public half of that key pair, for build data `SSHPublicKey`. */
  publicKey?(ctx: StepContext): string | undefined;
  /**
   * The builder's own `build` data (e.g. amazon's `SourceAMI`), from the
   * outputs of earlier steps. Asked every time the connection is (re)opened,
   * so a resumed process gives provisioners the same data.
   */
  buildData?(ctx: StepContext): Record<string, string>;
}

const LIVE_KEY = "communicator";

/** Build data that only a build with a communicator has. */
const NO_CONNECTION_KEYS = [
  "Host",
  "Port",
  "User",
  "Password",
  "WinRMPassword",
  "ConnType",
  "SSHPublicKey",
  "SSHPrivateKey",
];

/** The connect step, plus how to reopen its connection in a resumed process. */
export type ConnectStep = Step<ConnectOutput> & {
  /** Reopens the connection from the logged output (with the builder's key). */
  reconnect(ctx: StepContext): Promise<Communicator>;
};

/** The connect step. */
export function connectStep(options: ConnectStepOptions = {}): ConnectStep {
  return {
    id: CONNECT_STEP_ID,
    reconnect: (ctx) => ensureCommunicator(ctx, options),
    async run(ctx) {
      // The same UUID the manifest and build data before connecting carry: the run's.
      const out = resolveTarget(ctx, options, ctx.runtime?.buildData.PackerRunUUID ?? ctx.runId);
      await open(ctx, options, out);
      return out;
    },
    async compensate(ctx) {
      await closeCommunicator(ctx);
    },
  };
}

/**
 * Reopens the build's connection in a process resuming after the connect
 * step ran: through that step's own `reconnect` (it knows the builder's
 * key) when `steps` has it, else from the step's logged output.
 */
export async function reconnectBuild(
  ctx: StepContext,
  steps: readonly Step[],
): Promise<Communicator> {
  const connect = steps.find((s) => s.id === CONNECT_STEP_ID) as Partial<ConnectStep> | undefined;
  return await (connect?.reconnect ? connect.reconnect(ctx) : ensureCommunicator(ctx));
}

/**
 * The build's communicator: the open one, or reopened from the connect
 * step's logged output after a resume, or `none` when the build has no
 * connect step.
 */
export async function ensureCommunicator(
  ctx: StepContext,
  options: ConnectStepOptions = {},
): Promise<Communicator> {
  if (ctx.comm) return ctx.comm;
  const out = ctx.state[CONNECT_STEP_ID] as ConnectOutput | undefined;
  if (out) {
    ctx.ui.say(`Reconnecting (${out.type}) after resume...`);
    return await open(ctx, options, out);
  }
  const none = await openCommunicator("none", {
    config: ctx.config,
    target: { host: "" },
    signal: ctx.signal,
  });
  ctx.runtime?.setComm(none);
  return none;
}

/** Closes the build's communicator, if one is open. */
export async function closeCommunicator(ctx: StepContext): Promise<void> {
  const live = ctx.runtime?.live.get(LIVE_KEY);
  ctx.runtime?.live.delete(LIVE_KEY);
  ctx.runtime?.setComm(undefined);
  await live?.close();
}

function resolveTarget(
  ctx: StepContext,
  options: ConnectStepOptions,
  runUuid: string,
): ConnectOutput {
  const type = String(ctx.config.communicator ?? "none");
  const fromSteps = options.target?.(ctx);
  const winrm = type === "winrm";
  const c = ctx.config;
  const host = String((winrm ? c.winrm_host : c.ssh_host) ?? fromSteps?.host ?? "");
  // A builder's port is its SSH port; WinRM's comes from winrm_port or the scheme's default.
  const port = winrm
    ? Number(c.winrm_port ?? (c.winrm_use_ssl === true ? 5986 : 5985))
    : Number(c.ssh_port ?? fromSteps?.port ?? 22);
  if ((type === "ssh" || winrm) && host === "") {
    const option = winrm ? "winrm_host" : "ssh_host";
    throw new Error(
      `${ctx.buildName}: no host to connect to: set "${option}" (the builder provides none)`,
    );
  }
  return {
    type,
    host: type === "none" ? "" : host,
    port: type === "none" ? 0 : port,
    user: String((winrm ? c.winrm_username : c.ssh_username) ?? ""),
    id: fromSteps?.id ?? "",
    runUuid,
  };
}

async function open(
  ctx: StepContext,
  options: ConnectStepOptions,
  out: ConnectOutput,
): Promise<Communicator> {
  const privateKey = await options.privateKey?.(ctx) ?? await readKeyFile(ctx);
  if (privateKey) ctx.secrets.mask(privateKey);
  const passwordKey = out.type === "winrm" ? "winrm_password" : "ssh_password";
  const password = ctx.config[passwordKey] ? String(ctx.config[passwordKey]) : "";
  if (password) ctx.secrets.mask(password);
  if (out.type !== "none") ctx.ui.say(`Using ${out.type} communicator to connect: ${out.host}`);
  const started = performance.now();
  const comm = await openCommunicator(out.type, {
    config: ctx.config,
    target: { host: out.host, port: out.port, id: out.id },
    signal: ctx.signal,
    privateKey,
    say: (m) => ctx.ui.say(m),
    message: (m) => ctx.ui.message(m),
  });
  if (out.type !== "none") {
    // Where and as whom, never with what: the audit trail of every connection.
    await ctx.emit("CommunicatorConnected", {
      type: out.type,
      host: out.host,
      port: out.port,
      user: out.user,
      durationMs: Math.round(performance.now() - started),
    });
  }
  const rt = ctx.runtime;
  if (rt) {
    rt.live.set(LIVE_KEY, comm);
    rt.setComm(comm);
    if (out.type === "none") {
      // No connection, no connection facts: Packer renders them `<no value>`.
      for (const key of NO_CONNECTION_KEYS) delete rt.buildData[key];
      Object.assign(rt.buildData, options.buildData?.(ctx) ?? {});
      return comm;
    }
    Object.assign(rt.buildData, {
      ID: out.id,
      Host: out.host,
      Port: out.port ? String(out.port) : "",
      User: out.user,
      Password: password,
      WinRMPassword: out.type === "winrm" ? password : "",
      ConnType: out.type,
      // PackerRunUUID stays the runtime's: the run's recorded UUID, whatever an older log's output says.
      SSHPublicKey: options.publicKey?.(ctx) ?? "",
      SSHPrivateKey: privateKey ?? "",
      ...options.buildData?.(ctx),
    });
  }
  return comm;
}

async function readKeyFile(ctx: StepContext): Promise<string | undefined> {
  const file = ctx.config.ssh_private_key_file;
  if (typeof file !== "string" || file === "") return undefined;
  try {
    return await Deno.readTextFile(file);
  } catch (err) {
    throw new Error(`ssh_private_key_file ${file}: ${err instanceof Error ? err.message : err}`);
  }
}
