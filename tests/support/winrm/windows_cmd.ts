/**
 * The emulated cmd.exe: a command line (or each line of a .bat/.cmd file)
 * is %-expanded first, as cmd.exe does, then split at `&&`, `||` and `&`
 * outside double quotes (`^` escapes one character), and each simple
 * command is one of: `set "K=V"` / `set K=V`, `echo`, `exit [/b] N`,
 * `rem`/`::`, `@echo off|on`, `cmd /c ...`, `shutdown /r|/a ...`,
 * `powershell[.exe] ...`, or the path of a batch file. A simple command may
 * redirect its output to a file: `> f`, `>> f`, `1>`/`2>` (`nul` discards),
 * as winrmcp's `echo <base64> >> "%TEMP%\winrmcp-<id>.tmp"` uploads need;
 * like cmd.exe, the text before the `>` keeps its trailing space. Pipes,
 * input redirection, `2>&1`, `goto`, `if`, `for`, `call` and every other
 * program are reported as unsupported, with cmd.exe's "not recognized" exit
 * code 9009.
 */
import type { EmulatedIo } from "./emulation.ts";
import { runPowerShell } from "./windows_powershell.ts";
import { type Redirection, withRedirections } from "./windows_redirect.ts";
import {
  ExitSignal,
  getEnv,
  type Machine,
  setEnv,
  splitWindowsArgs,
  UnsupportedError,
  writeLine,
} from "./windows_machine.ts";

/** cmd.exe's exit code for an unknown program. */
export const NOT_RECOGNIZED = 9009;

type Joiner = "&&" | "||" | "&";

/** Leaves a batch file (`exit /b N`) but not the cmd.exe that ran it. */
class BatchExit {
  constructor(readonly code: number) {}
}

/** One cmd.exe process. */
export class Cmd {
  errorlevel = 0;
  #echo = true;

  constructor(
    public io: EmulatedIo,
    readonly machine: Machine,
    readonly env: Record<string, string>,
  ) {}

  /** Runs a command line as `cmd /c` does; resolves with the exit code. */
  async runCommandLine(line: string): Promise<number> {
    try {
      await this.#line(line, false);
    } catch (err) {
      if (err instanceof ExitSignal) return err.code;
      if (err instanceof BatchExit) return err.code;
      throw err;
    }
    return this.errorlevel;
  }

  /** %VAR% expansion: unknown names stay as written on a command line, vanish in a batch file. */
  #expand(line: string, batch: boolean): string {
    return line.replace(/%%|%([^%\s]+)%|%[0-9*~]/g, (m, name) => {
      if (m === "%%") return batch ? "%" : m;
      if (name === undefined) throw new UnsupportedError(`batch parameters (${m})`);
      return getEnv(this.env, name) ?? (batch ? "" : m);
    });
  }

  async #line(raw: string, batch: boolean): Promise<void> {
    const line = this.#expand(raw, batch);
    if (batch && this.#echo && line.trim() !== "" && !line.trimStart().startsWith("@")) {
      // Echo on: cmd.exe shows each batch line after a blank line and the prompt.
      const cwd = getEnv(this.env, "USERPROFILE") ?? "C:\\Windows\\system32";
      this.io.stdout(`\r\n${cwd}>${line.trim()}\r\n`);
    }
    let joiner: Joiner | undefined;
    for (const part of splitCommands(line)) {
      const run = joiner === undefined || joiner === "&" ||
        (joiner === "&&" ? this.errorlevel === 0 : this.errorlevel !== 0);
      if (run) await this.#redirected(part.command, part.redirections);
      joiner = part.joiner;
    }
  }

  /** Runs a simple command with its output going where its redirections say. */
  async #redirected(command: string, redirections: Redirection[]): Promise<void> {
    if (redirections.length === 0) return await this.#simple(command.trim());
    const io = this.io;
    try {
      const code = await withRedirections(io, redirections, async (redirectedIo) => {
        this.io = redirectedIo;
        // Only leading blanks go: cmd.exe echoes the space before `>` too.
        await this.#simple(command.trimStart());
        return this.errorlevel;
      });
      this.errorlevel = code;
    } finally {
      this.io = io;
    }
  }

  async #simple(command: string): Promise<void> {
    if (command === "") return;
    if (command.startsWith("@")) command = command.slice(1).trimStart();
    const [word] = /^("[^"]*"|[^\s]+)/.exec(command) ?? [""];
    const name = word.toLowerCase();
    const rest = command.slice(word.length).replace(/^\s/, "");
    if (name === "rem" || name.startsWith("::")) return;
    if (name === "set") return this.#set(rest);
    if (name === "echo" || name.startsWith("echo.")) return this.#echoCommand(command.slice(4));
    if (name === "exit") return this.#exit(rest);
    if (name === "cmd" || name === "cmd.exe") return await this.#cmd(rest);
    if (name === "shutdown" || name === "shutdown.exe") return this.#shutdown(rest);
    if (name === "powershell" || name === "powershell.exe") {
      this.errorlevel = await runPowerShell(splitWindowsArgs(rest), this.io, this.machine);
      return;
    }
    const path = word.replace(/^"|"$/g, "");
    if (/\.(bat|cmd)$/i.test(path)) {
      if (rest.trim() !== "") throw new UnsupportedError(`arguments to a batch file (${rest})`);
      return await this.#batch(path);
    }
    writeLine(
      this.io.stderr,
      `'${path}' is not recognized as an internal or external command, operable program or ` +
        "batch file. (kiln's cmd.exe emulator does not support it)",
    );
    this.errorlevel = NOT_RECOGNIZED;
  }

  #set(args: string): void {
    const m = /^"([^=]+)=(.*)"\s*$/.exec(args) ?? /^([^="\s][^=]*)=(.*)$/.exec(args);
    if (!m) throw new UnsupportedError(`set ${args}`);
    setEnv(this.env, m[1], m[2]);
    this.errorlevel = 0;
  }

  #echoCommand(after: string): void {
    const text = after.startsWith(".") ? "" : after.replace(/^\s/, "");
    if (/^(off|on)\s*$/i.test(text)) {
      this.#echo = text.trim().toLowerCase() === "on";
      return;
    }
    if (text.trim() === "" && !after.startsWith(".")) {
      writeLine(this.io.stdout, `ECHO is ${this.#echo ? "on" : "off"}.`);
      return;
    }
    writeLine(this.io.stdout, text);
  }

  #exit(args: string): never {
    const m = /^(\/b\s*)?(-?\d+)?\s*$/i.exec(args.trim());
    if (!m) throw new UnsupportedError(`exit ${args}`);
    const code = m[2] === undefined ? this.errorlevel : Number(m[2]);
    if (m[1]) throw new BatchExit(code);
    throw new ExitSignal(code);
  }

  async #cmd(args: string): Promise<void> {
    const m = /^\/[cC]\s+(.*)$/s.exec(args);
    if (!m) throw new UnsupportedError(`cmd ${args}`);
    let inner = m[1];
    // cmd /c "a b": the outer quotes go when the line starts with one.
    if (/^".*"$/s.test(inner)) inner = inner.slice(1, -1);
    const child = new Cmd(this.io, this.machine, { ...this.env });
    this.errorlevel = await child.runCommandLine(inner);
  }

  #shutdown(args: string): void {
    const argv = splitWindowsArgs(args).map((a) => a.toLowerCase());
    if (argv.includes("/a")) {
      if (this.machine.abortScheduled()) {
        this.errorlevel = 0;
      } else {
        writeLine(
          this.io.stderr,
          "Unable to abort the system shutdown because no shutdown was in progress.(1116)",
        );
        this.errorlevel = 1116;
      }
      return;
    }
    if (!argv.includes("/r")) throw new UnsupportedError(`shutdown ${args} (only /r and /a)`);
    for (let i = 0; i < argv.length; i++) {
      if (["/r", "/f"].includes(argv[i])) continue;
      if (["/t", "/c", "/d"].includes(argv[i])) i++;
      else throw new UnsupportedError(`shutdown option ${argv[i]}`);
    }
    if (this.machine.restarting) {
      writeLine(this.io.stderr, "A system shutdown is in progress.(1115)");
      this.errorlevel = 1115;
      return;
    }
    if (this.machine.scheduled) {
      writeLine(this.io.stderr, "A system shutdown has already been scheduled.(1190)");
      this.errorlevel = 1190;
      return;
    }
    const t = argv.indexOf("/t");
    const seconds = t >= 0 ? Number(argv[t + 1]) : 30;
    if (!Number.isInteger(seconds) || seconds < 0) {
      throw new UnsupportedError(`shutdown /t ${argv[t + 1]}`);
    }
    if (seconds === 0) this.machine.restart(this.io);
    else this.machine.schedule(this.io, seconds);
    this.errorlevel = 0;
  }

  async #batch(path: string): Promise<void> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.io.localPath(path));
    } catch {
      writeLine(this.io.stderr, "The system cannot find the path specified.");
      this.errorlevel = 1;
      return;
    }
    const echo = this.#echo;
    try {
      for (const line of text.split(/\r?\n/)) {
        if (this.io.signal.aborted) throw new ExitSignal(1);
        if (/^\s*:/.test(line) && !/^\s*::/.test(line)) {
          throw new UnsupportedError(`labels (${line.trim()})`);
        }
        await this.#line(line, true);
      }
    } catch (err) {
      if (!(err instanceof BatchExit)) throw err;
      this.errorlevel = err.code;
    } finally {
      this.#echo = echo;
    }
  }
}

/** One simple command of a line, its output redirections, and what joins it to the next. */
export interface SimpleCommand {
  command: string;
  redirections: Redirection[];
  joiner?: Joiner;
}

/**
 * Splits at `&&`, `||` and `&` outside quotes and takes each command's
 * `[1|2]>[>] target` redirections out of it; `^x` stands for a literal x
 * outside quotes.
 */
export function splitCommands(line: string): SimpleCommand[] {
  const out: SimpleCommand[] = [];
  let current = "";
  let redirections: Redirection[] = [];
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === "^" && i + 1 < line.length) {
      current += line[++i];
      continue;
    }
    if (!quoted && (ch === "&" || (ch === "|" && line[i + 1] === "|"))) {
      const joiner: Joiner = line[i + 1] === ch ? (ch === "&" ? "&&" : "||") : "&";
      if (joiner !== "&") i++;
      out.push({ command: current, redirections, joiner });
      current = "";
      redirections = [];
      continue;
    }
    if (!quoted && ch === ">") {
      // A handle digit right before `>` belongs to the redirection, not the command.
      let stream: "stdout" | "stderr" = "stdout";
      const handle = /(^|\s)([12])$/.exec(current);
      if (handle) {
        current = current.slice(0, current.length - 1);
        if (handle[2] === "2") stream = "stderr";
      }
      const append = line[i + 1] === ">";
      const target = /^\s*("[^"]*"|[^\s&|<>]+)/.exec(line.slice(i + (append ? 2 : 1)));
      if (!target || target[1].startsWith("&")) {
        throw new UnsupportedError(`redirection without a file (${line.slice(i).trim()})`);
      }
      redirections.push({ stream, append, path: target[1].replace(/^"|"$/g, "") });
      i += (append ? 1 : 0) + target[0].length;
      continue;
    }
    if (!quoted && (ch === "|" || ch === "<")) {
      throw new UnsupportedError(`pipes and input redirection (${ch})`);
    }
    current += ch;
  }
  out.push({ command: current, redirections });
  return out;
}
