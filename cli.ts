/**
 * kiln's command line. Each command lives in `cli/<name>.ts` and is imported
 * only when invoked, so `kiln validate` never loads the runtime or the SDKs.
 */
import { configureDebugLog, debugLog } from "./runtime/debug_log.ts";
import { KILN_VERSION, PACKER_COMPAT_VERSION } from "./version.ts";

const commands: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  build: {
    summary: "run the builds in a template (or --resume a run)",
    load: () => import("./cli/build.ts"),
  },
  validate: { summary: "check that a template is valid", load: () => import("./cli/validate.ts") },
  inspect: { summary: "show the components of a template", load: () => import("./cli/inspect.ts") },
  fmt: {
    summary: "rewrite HCL2 configuration files to the canonical format",
    load: () => import("./cli/fmt.ts"),
  },
  console: {
    summary: "evaluate expressions against a template's variables and locals",
    load: () => import("./cli/console.ts"),
  },
  runs: { summary: "list runs, or `runs show <run-id>`", load: () => import("./cli/runs.ts") },
  replay: {
    summary: "re-render a run from its log and verify the hash chain",
    load: () => import("./cli/replay.ts"),
  },
  cleanup: {
    summary: "delete every resource a run left behind",
    load: () => import("./cli/cleanup.ts"),
  },
  sweep: {
    summary: "list (and -delete) cloud resources of finished or unknown runs",
    load: () => import("./cli/sweep.ts"),
  },
  fix: {
    summary: "print a template with Packer's backwards-incompatibility fixes applied",
    load: () => import("./cli/fix.ts"),
  },
  hcl2_upgrade: {
    summary: "transform a JSON template into an HCL2 configuration",
    load: () => import("./cli/hcl2_upgrade.ts"),
  },
  demo: {
    summary: "run the embedded example build (no cloud account needed)",
    load: () => import("./cli/demo.ts"),
  },
  version: { summary: "print kiln's version", load: () => import("./cli/version.ts") },
};

/** Packer's exit code (the shell's "command not found") for a missing or unknown command. */
export const UNKNOWN_COMMAND = 127;

/** What every `cli/<name>.ts` exports. */
export interface CommandModule {
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    "Usage: kiln [--version] [--help] <command> [<args>]",
    "",
    "Available commands are:",
    ...Object.entries(commands).map(([name, c]) => `    ${name.padEnd(width)}    ${c.summary}`),
  ].join("\n");
}

function isGlobal(flag: string): boolean {
  return /^--?(machine-readable|color(=.*)?)$/.test(flag);
}

/** Entry point: dispatches to a command and returns its exit code. */
export async function main(argv: string[]): Promise<number> {
  argv = takeStoreFlag(argv);
  // Packer accepts global flags before the command (`packer -machine-readable version`).
  const globals = argv.filter((a, i) =>
    i < argv.findIndex((x) => !x.startsWith("-")) && isGlobal(a)
  );
  const [name, ...rest] = argv.filter((a) => !globals.includes(a));
  rest.unshift(...globals);
  if (name === undefined || ["-h", "-help", "--help", "help"].includes(name)) {
    console.log(usage());
    // Packer exits 127 when no command is given, 0 when help is asked for.
    return name === undefined ? UNKNOWN_COMMAND : 0;
  }
  if (["-v", "-version", "--version"].includes(name)) return await main(["version", ...rest]);
  if (!Object.hasOwn(commands, name)) {
    console.error(`kiln: unknown command "${name}"\n\n${usage()}`);
    return UNKNOWN_COMMAND;
  }
  if (STORE_COMMANDS.includes(name) && Deno.env.get("KILN_STORE")) {
    // Loaded only when a store is set: without one, no command loads the S3 SDK.
    const { useStoreFromEnv } = await import("./store/mod.ts");
    try {
      useStoreFromEnv();
    } catch (err) {
      console.error(`kiln: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }
  }
  const mod = await commands[name].load();
  return await mod.run(rest);
}

/** Commands that read or write runs, and so use the shared store when one is set. */
const STORE_COMMANDS = ["build", "runs", "replay", "cleanup", "sweep", "demo"];

/**
 * `--store URL` (or `-store=URL`) anywhere on the line is KILN_STORE for
 * this process: every command that touches runs takes it.
 */
function takeStoreFlag(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?store(?:=(.*))?$/.exec(argv[i]);
    if (!m) {
      out.push(argv[i]);
      continue;
    }
    const value = m[1] ?? argv[++i];
    // A bare --store at the end is an error the store's settings report.
    Deno.env.set("KILN_STORE", value ?? "--store needs a value");
  }
  return out;
}

/**
 * A reader that went away (`kiln build ... | head -1`) is not an error of
 * kiln's: the command keeps its own outcome and says nothing more, because
 * there is nowhere left to say it and a message on stderr would be noise.
 */
const CLOSED_PIPE = 141; // 128 + SIGPIPE: what a shell shows for a program its reader left

function isClosedPipe(err: unknown): boolean {
  return err instanceof Deno.errors.BrokenPipe ||
    (err instanceof Error && /broken pipe|os error 32/i.test(err.message));
}

if (import.meta.main) {
  globalThis.addEventListener("unhandledrejection", (e) => {
    if (!isClosedPipe(e.reason)) return;
    e.preventDefault();
    Deno.exit(CLOSED_PIPE);
  });
  const logProblem = configureDebugLog((name) => Deno.env.get(name));
  if (logProblem) {
    console.error(`kiln: ${logProblem}`);
    Deno.exit(1);
  }
  // Never argv itself: a -var may carry a secret (the run's RunStarted has them masked).
  debugLog(
    "kiln",
    "INFO",
    `kiln version: ${KILN_VERSION} (Packer ${PACKER_COMPAT_VERSION} compatible) ` +
      `[deno ${Deno.version.deno} ${Deno.build.os} ${Deno.build.arch}] command: ${
        Deno.args.find((a) => Object.hasOwn(commands, a)) ?? "(none)"
      }`,
  );
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    if (isClosedPipe(err)) Deno.exit(CLOSED_PIPE);
    // Commands report their own errors; this is the last guard against a stack trace.
    console.error(`kiln: ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
