/**
 * amazon-instance, kiln vs Packer 1.6.6, side by side against the same EC2 +
 * S3 emulator: wall time of a whole build (launch, SSH, provision, bundle,
 * upload, register, cleanup) and the EC2 API calls each makes, with polling
 * at its minimum (1 s) for both. A fresh emulator per build keeps them equal.
 *
 *   deno run -A bench/aws.ts [--runs 3]
 */
import { parseArgs } from "node:util";
import { startEc2Emulator } from "../tests/support/ec2/mod.ts";
import { freePort } from "../tests/support/sshd.ts";
import { emulatorBuilder, writeX509Placeholders } from "../tests/emulator/helpers.ts";

const { values } = parseArgs({ args: Deno.args, options: { runs: { type: "string" } } });
const runs = Number(values.runs ?? 3);
const cli = new URL("../cli.ts", import.meta.url).pathname;
const havePacker = await new Deno.Command("packer", { args: ["version"], stdout: "null" })
  .output().then((o) => o.success, () => false);

interface Sample {
  ms: number;
  calls: number;
}

/**
 * "kiln ed25519" isolates the temporary key: the reference makes 4096-bit RSA
 * the default (0.3 to 3 s to generate), where Packer 1.6.6 makes 2048-bit keys.
 */
type Tool = "kiln" | "kiln ed25519" | "packer";

async function buildOnce(tool: Tool): Promise<Sample> {
  const sshPort = freePort();
  const emulator = await startEc2Emulator({ sshPort, pendingMs: 200, shuttingDownMs: 100 });
  const dir = await Deno.makeTempDir({ prefix: `kiln-bench-aws-${tool}-` });
  try {
    await writeX509Placeholders(dir);
    const template = {
      builders: [emulatorBuilder(emulator.endpoint, dir, sshPort, {
        s3_bucket: "kiln-bench-bundles",
        ami_name: `bench-${tool.replace(" ", "-")}-{{timestamp}}`,
        ...(tool === "kiln ed25519" ? { temporary_key_pair_type: "ed25519" } : {}),
      })],
      provisioners: [{ type: "shell", inline: ["echo provisioned"] }],
    };
    await Deno.writeTextFile(`${dir}/t.json`, JSON.stringify(template));
    const args = tool !== "packer"
      ? [Deno.execPath(), "run", "-A", cli, "build", `${dir}/t.json`]
      : ["packer", "build", "-color=false", `${dir}/t.json`];
    const started = performance.now();
    const out = await new Deno.Command(args[0], {
      args: args.slice(1),
      cwd: dir,
      env: {
        AWS_POLL_DELAY_SECONDS: "1",
        CHECKPOINT_DISABLE: "1",
        KILN_HOME: `${dir}/.kiln`,
        NO_COLOR: "1",
        AWS_ENDPOINT_URL_S3: emulator.s3.endpoint,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const ms = performance.now() - started;
    if (!out.success) {
      throw new Error(`${tool} build failed:\n${new TextDecoder().decode(out.stdout)}`);
    }
    const calls = Object.values(emulator.ledger().calls).reduce((a, b) => a + b, 0);
    return { ms, calls };
  } finally {
    await emulator.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const tools: Tool[] = havePacker ? ["kiln", "kiln ed25519", "packer"] : ["kiln", "kiln ed25519"];
const results: Record<string, Sample[]> = { kiln: [], "kiln ed25519": [], packer: [] };
for (let i = 0; i < runs; i++) {
  for (const tool of tools) results[tool].push(await buildOnce(tool));
}
console.log(`amazon-instance build against the EC2 emulator, median of ${runs}, polling 1 s`);
console.log("| tool | wall time | EC2 calls |");
console.log("|---|---:|---:|");
for (const tool of tools) {
  const ms = median(results[tool].map((s) => s.ms));
  const calls = median(results[tool].map((s) => s.calls));
  console.log(`| ${tool} | ${(ms / 1000).toFixed(2)} s | ${calls} |`);
}
if (havePacker) {
  const packer = median(results.packer.map((s) => s.ms));
  for (const tool of ["kiln", "kiln ed25519"]) {
    const ratio = median(results[tool].map((s) => s.ms)) / packer;
    console.log(`${tool} / packer wall time: ${ratio.toFixed(2)}×`);
  }
} else {
  console.log("packer is not installed: `apt-get install -y packer` to compare");
}
