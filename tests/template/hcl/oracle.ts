/**
 * Runs a recorded Packer 1.6.6 oracle case (tests/fixtures/hcl/oracle) through
 * kiln: the same command, arguments and environment in a fresh copy of the
 * case directory, with the same normalisation as the recording.
 */
import { fileURLToPath as fromFileUrl } from "node:url";

/** A case's recorded input. */
export interface OracleCase {
  command: "build" | "validate" | "inspect";
  args?: string[];
  env?: Record<string, string>;
  target?: string;
  description: string;
}

/** What Packer (or kiln) did. */
export interface OracleResult {
  exit: number;
  stdout: string;
  stderr: string;
  lines: string[];
}

/** The oracle directory. */
export const ORACLE_DIR = fromFileUrl(new URL("../../fixtures/hcl/oracle/", import.meta.url));
const CLI = fromFileUrl(new URL("../../../cli.ts", import.meta.url));

/** Every case name, sorted. */
export async function oracleCases(): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(ORACLE_DIR)) {
    if (!e.isDirectory) continue;
    try {
      await Deno.stat(`${ORACLE_DIR}${e.name}/case.json`);
      names.push(e.name);
    } catch { /* not a case */ }
  }
  return names.sort();
}

async function copyDir(from: string, to: string): Promise<void> {
  for await (const entry of Deno.readDir(from)) {
    if (entry.name === "case.json" || entry.name === "packer.json") continue;
    if (entry.isDirectory) {
      await Deno.mkdir(`${to}/${entry.name}`);
      await copyDir(`${from}/${entry.name}`, `${to}/${entry.name}`);
    } else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

/** Normalises run-dependent text as the recorder does. */
export function normalise(text: string, dirs: string[]): string {
  // deno-lint-ignore no-control-regex
  let out = text.replace(/\x1b\[[0-9;]*m/g, "");
  for (const dir of dirs) out = out.split(dir).join("<CASE_DIR>");
  return out
    .replace(/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})/g, "<TIMESTAMP>")
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, "<UUID>");
}

/** `RESULT` lines as the UI shows them: `null.a: RESULT x=1`. */
export function resultLines(stdout: string): string[] {
  const lines: string[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^\s+([^\s:][^:]*): (RESULT.*)$/.exec(line);
    if (m) lines.push(`${m[1]}: ${m[2]}`);
  }
  return lines;
}

/** The recorded case and Packer's result. */
export async function loadCase(name: string): Promise<{ spec: OracleCase; packer: OracleResult }> {
  const dir = `${ORACLE_DIR}${name}`;
  return {
    spec: JSON.parse(await Deno.readTextFile(`${dir}/case.json`)),
    packer: JSON.parse(await Deno.readTextFile(`${dir}/packer.json`)),
  };
}

/** Runs the case through kiln. */
export async function runKiln(name: string): Promise<OracleResult> {
  const { spec } = await loadCase(name);
  const tmp = await Deno.makeTempDir({ prefix: "kiln-oracle-" });
  try {
    await copyDir(`${ORACLE_DIR}${name}`, tmp);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, spec.command, ...(spec.args ?? []), spec.target ?? "."],
      cwd: tmp,
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: Deno.env.get("HOME") ?? tmp,
        DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
        KILN_SEAL_DIR: `${tmp}/.seals`,
        NO_COLOR: "1",
        PACKER_NO_COLOR: "1",
        ...spec.env,
      },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const real = await Deno.realPath(tmp);
    const dec = new TextDecoder();
    const stdout = normalise(dec.decode(out.stdout), [real, tmp]);
    return {
      exit: out.code,
      stdout,
      stderr: normalise(dec.decode(out.stderr), [real, tmp]),
      lines: resultLines(stdout),
    };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

if (import.meta.main) {
  const names = Deno.args.length > 0 ? Deno.args : await oracleCases();
  let same = 0;
  const queue = [...names];
  const worker = async () => {
    for (let name = queue.shift(); name; name = queue.shift()) {
      const { packer } = await loadCase(name);
      const kiln = await runKiln(name);
      const exitOk = (packer.exit === 0) === (kiln.exit === 0);
      const linesOk = JSON.stringify(packer.lines) === JSON.stringify(kiln.lines);
      if (exitOk && linesOk) same++;
      else {
        console.log(`DIFF ${name}: exit packer=${packer.exit} kiln=${kiln.exit}`);
        if (!linesOk) {
          console.log(
            `  packer: ${JSON.stringify(packer.lines)}\n  kiln:   ${JSON.stringify(kiln.lines)}`,
          );
        }
        if (!exitOk) {
          console.log(
            `  kiln stderr: ${kiln.stderr.slice(0, 600)}\n  packer stderr: ${
              packer.stderr.slice(0, 400)
            }`,
          );
        }
      }
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  console.log(`${same}/${names.length} match`);
}
