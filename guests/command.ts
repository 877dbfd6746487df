/** Runs the host tools the guest builds drive, failing with what the tool said. */

/** Options for {@link run}. */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Bytes written to the tool's stdin. */
  stdin?: Uint8Array | string;
}

/**
 * Runs `program args...` to completion and returns its stdout as text; a
 * non-zero exit throws an error naming the command, its exit code and the
 * tail of its stderr (the part that says what went wrong).
 */
export async function run(
  program: string,
  args: string[],
  options: RunOptions = {},
): Promise<string> {
  const child = new Deno.Command(program, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(
      typeof options.stdin === "string" ? new TextEncoder().encode(options.stdin) : options.stdin,
    );
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  if (!out.success) {
    const stderr = decoder.decode(out.stderr).trim().split("\n").slice(-15).join("\n");
    throw new Error(`${program} ${args.join(" ")} failed (exit ${out.code}):\n${stderr}`);
  }
  return decoder.decode(out.stdout);
}
