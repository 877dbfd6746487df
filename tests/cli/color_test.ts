/**
 * Colour on a real terminal (a pty from util-linux `script`): on by
 * default, off — live status line included — with PACKER_NO_COLOR,
 * NO_COLOR or -color=false.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "../support/temp_dir.ts";
import { CLI_PATH } from "../support/kiln_cli.ts";

const ESC = String.fromCharCode(0x1b);
/** SGR sequences (colour, bold, dim); cursor control such as ESC[2K is not colour. */
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`);

async function onTerminal(dir: string, args: string[], env: Record<string, string>) {
  const command = [Deno.execPath(), "run", "-A", CLI_PATH, ...args].join(" ");
  const out = await new Deno.Command("script", {
    args: ["-qefc", command, "/dev/null"],
    cwd: dir,
    // The parent's NO_COLOR or PACKER_NO_COLOR must not decide the default case (empty is unset).
    env: { NO_COLOR: "", PACKER_NO_COLOR: "", KILN_HOME: join(dir, ".kiln"), ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  return { code: out.code, text: new TextDecoder().decode(out.stdout) };
}

Deno.test("a terminal gets Packer's colours unless PACKER_NO_COLOR, NO_COLOR or -color=false", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "t.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        builders: [{ type: "null", communicator: "none" }],
        provisioners: [{ type: "shell-local", inline: ["sleep 0.4", "echo done"] }],
      }),
    );
    const [plain, packerNoColor, noColor, flag] = await Promise.all([
      onTerminal(dir, ["build", file], {}),
      onTerminal(dir, ["build", file], { PACKER_NO_COLOR: "1" }),
      onTerminal(dir, ["build", file], { NO_COLOR: "1" }),
      onTerminal(dir, ["build", "-color=false", file], {}),
    ]);
    assert.equal(plain.code, 0, plain.text);
    assert.ok(
      plain.text.includes(`${ESC}[1;32mnull: output will be in this color.${ESC}[0m`),
      plain.text,
    );
    for (const [name, run] of Object.entries({ packerNoColor, noColor, flag })) {
      assert.equal(run.code, 0, run.text);
      assert.ok(run.text.includes("    null: done"), name);
      assert.doesNotMatch(run.text, SGR, `${name}: ${JSON.stringify(run.text.match(SGR)?.[0])}`);
      // The live status line is still drawn, only without colour.
      assert.ok(run.text.includes(`\r${ESC}[2K[null: `), name);
    }
  });
});
