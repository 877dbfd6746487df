/**
 * The emulated `powershell.exe`: its command-line options (-EncodedCommand,
 * -Command, -File, a positional script, -ExecutionPolicy and the usual
 * switches) and an interpreter for the statement subset parsed by
 * windows_ps_parser.ts, with PowerShell's semantics where they matter to a
 * provisioner: `exit N` inside an invoked script ends only that script and
 * sets `$LastExitCode`; environment changes stay in this process; output
 * lines end with CRLF.
 */
import type { EmulatedIo } from "./emulation.ts";
import { type Expr, parseScript, type Stmt } from "./windows_ps_parser.ts";
import {
  ExitSignal,
  getEnv,
  type Machine,
  setEnv,
  UnsupportedError,
  writeLine,
} from "./windows_machine.ts";

type Value = string | number | boolean | null;
type Emit = (value: Value) => void;

/** Decodes `-EncodedCommand`: base64 of UTF-16LE. */
export function decodeEncodedCommand(b64: string): string {
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  } catch {
    throw new UnsupportedError(`-EncodedCommand with invalid base64`);
  }
  return new TextDecoder("utf-16le").decode(bytes);
}

const SWITCHES = new Set(["-noprofile", "-noninteractive", "-nologo", "-sta", "-mta"]);

/** What powershell.exe was asked to run. */
type Invocation = { script: string } | { file: string };

/** Reads powershell.exe's arguments (already split). */
export function parsePowerShellArgs(args: readonly string[]): Invocation {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const opt = arg.toLowerCase();
    if (SWITCHES.has(opt)) continue;
    if (opt === "-executionpolicy" || opt === "-ep") {
      i++;
      continue;
    }
    if (opt === "-encodedcommand" || opt === "-enc" || opt === "-e" || opt === "-ec") {
      if (i + 1 >= args.length) throw new UnsupportedError("-EncodedCommand without a value");
      return { script: decodeEncodedCommand(args[i + 1]) };
    }
    if (opt === "-command" || opt === "-c") return { script: args.slice(i + 1).join(" ") };
    if (opt === "-file" || opt === "-f") {
      if (i + 1 >= args.length) throw new UnsupportedError("-File without a path");
      if (i + 2 < args.length) throw new UnsupportedError("arguments after -File <path>");
      return { file: args[i + 1] };
    }
    if (opt.startsWith("-")) throw new UnsupportedError(`the powershell.exe option "${arg}"`);
    return { script: args.slice(i).join(" ") };
  }
  throw new UnsupportedError("powershell.exe without a command (interactive)");
}

/** Runs powershell.exe with `args`; resolves with its exit code. */
export async function runPowerShell(
  args: readonly string[],
  io: EmulatedIo,
  machine: Machine,
): Promise<number> {
  const invocation = parsePowerShellArgs(args);
  // A child process: its environment changes never reach the caller.
  const ps = new PowerShell(io, machine, { ...io.env });
  const emit: Emit = (v) => ps.print(v);
  try {
    if ("file" in invocation) {
      await ps.runFile(invocation.file, emit);
      return 0;
    }
    await ps.run(parseScript(invocation.script), emit);
    return 0;
  } catch (err) {
    if (err instanceof ExitSignal) return err.code;
    throw err;
  }
}

/** Ends the script file it is thrown in (and the process, at top level). */
class ScriptExit extends ExitSignal {}

class PowerShell {
  #vars = new Map<string, Value>([
    ["lastexitcode", null],
    ["progresspreference", "Continue"],
    ["true", true],
    ["false", false],
    ["null", null],
  ]);
  #trace = 0;

  constructor(
    readonly io: EmulatedIo,
    readonly machine: Machine,
    readonly env: Record<string, string>,
  ) {}

  print(value: Value): void {
    if (value !== null) writeLine(this.io.stdout, format(value));
  }

  async run(stmts: Stmt[], emit: Emit): Promise<void> {
    for (const stmt of stmts) {
      if (this.io.signal.aborted) throw new ExitSignal(1);
      if (this.#trace > 0) {
        writeLine(
          this.io.stdout,
          `DEBUG: ${String(stmt.src.line).padStart(4)}+  >>>> ${stmt.src.text}`,
        );
      }
      await this.#exec(stmt, emit);
    }
  }

  /** Runs a .ps1 file: `exit N` inside ends it and sets $LastExitCode. */
  async runFile(path: string, emit: Emit): Promise<void> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.io.localPath(path));
    } catch {
      writeLine(
        this.io.stderr,
        `The term '${path}' is not recognized as the name of a cmdlet, function, script file, ` +
          "or operable program.",
      );
      return;
    }
    try {
      await this.run(parseScript(text.replace(/^\uFEFF/, "")), emit);
    } catch (err) {
      if (!(err instanceof ExitSignal)) throw err;
      this.#vars.set("lastexitcode", err.code);
      if (!(err instanceof ScriptExit)) throw new ScriptExit(err.code);
    }
  }

  async #exec(stmt: Stmt, emit: Emit): Promise<void> {
    switch (stmt.t) {
      case "if": {
        const values = await this.#capture(stmt.cond);
        const branch = values.some(truthy) ? stmt.then : stmt.else;
        if (branch) await this.run(branch, emit);
        return;
      }
      case "exit": {
        const v = stmt.value ? await this.#eval(stmt.value) : 0;
        throw new ExitSignal(toExitCode(v));
      }
      case "assign":
        return this.#assign(stmt.name, await this.#eval(stmt.value));
      case "dot":
      case "call":
        if (stmt.target.t === "block") return await this.run(stmt.target.body, emit);
        return await this.#runScriptFile(String(await this.#eval(stmt.target)), emit);
      case "command":
        return await this.#command(stmt.name, stmt.args, emit);
      case "expr":
        return emit(await this.#eval(stmt.value));
    }
  }

  async #runScriptFile(path: string, emit: Emit): Promise<void> {
    try {
      await this.runFile(path, emit);
    } catch (err) {
      if (!(err instanceof ScriptExit)) throw err;
    }
  }

  async #capture(stmt: Stmt): Promise<Value[]> {
    const out: Value[] = [];
    await this.#exec(stmt, (v) => out.push(v));
    return out;
  }

  #assign(name: string, value: Value): void {
    if (/^env:/i.test(name)) setEnv(this.env, name.slice(4), value === null ? "" : format(value));
    else this.#vars.set(name.toLowerCase(), value);
  }

  #variable(name: string): Value {
    if (/^env:/i.test(name)) return getEnv(this.env, name.slice(4)) ?? null;
    return this.#vars.get(name.toLowerCase()) ?? null;
  }

  async #eval(expr: Expr): Promise<Value> {
    switch (expr.t) {
      case "str":
        return expr.quote === "'" ? expr.value : this.#expand(expr.value);
      case "num":
        return expr.value;
      case "word":
        return expr.value;
      case "var":
        return this.#variable(expr.name);
      case "paren": {
        const values = await this.#capture(expr.body);
        return values.length === 0 ? null : values[values.length - 1];
      }
      case "static":
        if (/^System\.Net\.Dns$/i.test(expr.type) && /^GetHostName$/i.test(expr.member)) {
          return getEnv(this.env, "COMPUTERNAME") ?? "KILN-WINRM";
        }
        throw new UnsupportedError(`[${expr.type}]::${expr.member}`);
      case "format": {
        const pattern = String(await this.#eval(expr.format));
        const args: Value[] = [];
        for (const a of expr.args) args.push(await this.#eval(a));
        return pattern.replace(/\{(\d+)\}/g, (_, n) => {
          const v = args[Number(n)];
          return v === undefined || v === null ? "" : format(v);
        });
      }
      case "block":
        throw new UnsupportedError("a script block used as a value");
    }
  }

  /** Expands a double-quoted string: backtick escapes and `$name`/`$env:NAME`. */
  #expand(raw: string): string {
    const escapes: Record<string, string> = { n: "\n", r: "\r", t: "\t", "0": "\0" };
    return raw.replace(/`(.)|\$((?:env:)?[A-Za-z0-9_?]+)|\$/gi, (m, esc, name) => {
      if (esc !== undefined) return escapes[esc] ?? esc;
      if (name !== undefined) {
        const v = this.#variable(name);
        return v === null ? "" : format(v);
      }
      return m;
    });
  }

  async #command(name: string, args: Expr[], emit: Emit): Promise<void> {
    const values: Value[] = [];
    for (const a of args) values.push(await this.#eval(a));
    switch (name.toLowerCase()) {
      case "write-output":
      case "echo":
      case "write":
        for (const v of values) emit(v);
        return;
      case "write-host":
        if (args.some((a) => a.t === "word" && a.value.startsWith("-"))) {
          throw new UnsupportedError(`Write-Host options (${values.join(" ")})`);
        }
        writeLine(this.io.stdout, values.filter((v) => v !== null).map(format).join(" "));
        return;
      case "test-path":
        return emit(await this.#exists(single(name, values)));
      case "remove-item":
        return await this.#remove(single(name, values));
      case "set-variable":
        return this.#setVariable(values);
      case "set-psdebug":
        return this.#setPsDebug(values);
      case "restart-computer":
        if (values.some((v) => String(v).toLowerCase() !== "-force")) {
          throw new UnsupportedError(`Restart-Computer ${values.join(" ")}`);
        }
        this.machine.restart(this.io);
        return;
    }
    throw new UnsupportedError(`the command "${name}"`);
  }

  async #exists(path: string): Promise<boolean> {
    try {
      await Deno.stat(this.io.localPath(registryPath(path)));
      return true;
    } catch {
      return false;
    }
  }

  async #remove(path: string): Promise<void> {
    try {
      await Deno.remove(this.io.localPath(path));
    } catch {
      writeLine(
        this.io.stderr,
        `Remove-Item : Cannot find path '${path}' because it does not exist.`,
      );
    }
  }

  #setVariable(values: Value[]): void {
    const named = namedArgs("Set-Variable", values, ["-name", "-value"]);
    const name = String(named["-name"]).replace(/^variable:(global:|script:|local:)?/i, "");
    this.#assign(name, named["-value"] ?? null);
  }

  #setPsDebug(values: Value[]): void {
    const named = namedArgs("Set-PsDebug", values, ["-trace"]);
    const level = Number(named["-trace"]);
    if (![0, 1, 2].includes(level)) {
      throw new UnsupportedError(`Set-PsDebug -Trace ${named["-trace"]}`);
    }
    this.#trace = level;
  }
}

function single(command: string, values: Value[]): string {
  if (values.length !== 1 || values[0] === null) {
    throw new UnsupportedError(`${command} with arguments other than one path`);
  }
  return String(values[0]);
}

function namedArgs(command: string, values: Value[], names: string[]): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (let i = 0; i < values.length; i += 2) {
    const key = String(values[i]).toLowerCase();
    if (!names.includes(key) || i + 1 >= values.length) {
      throw new UnsupportedError(`${command} ${values.join(" ")}`);
    }
    out[key] = values[i + 1];
  }
  return out;
}

/** Registry drives map to a directory tree so tests can create "pending reboot" keys. */
export function registryPath(path: string): string {
  const m = /^(HKLM|HKCU):\\?(.*)$/i.exec(path);
  if (!m) return path;
  return `C:/kiln-emulated-registry/${m[1].toUpperCase()}/${m[2].replaceAll("\\", "/")}`;
}

function format(value: Value): string {
  if (typeof value === "boolean") return value ? "True" : "False";
  return value === null ? "" : String(value);
}

function truthy(value: Value): boolean {
  return value !== null && value !== false && value !== 0 && value !== "";
}

function toExitCode(value: Value): number {
  if (value === null || value === "") return 0;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new UnsupportedError(`exit with the value "${value}"`);
  return n;
}
