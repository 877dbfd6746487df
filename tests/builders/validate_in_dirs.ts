/**
 * Runs kiln's validation (as `kiln validate` does) on many templates, each
 * from its own working directory, since Packer resolves a template's
 * relative paths against the working directory. One process for them all:
 * reads `[{dir, file, args}]` as JSON on stdin, writes `[{verdict, issues}]`.
 */
import { prepareTemplate } from "../../template/prepare.ts";
import { TemplateError, type TemplateIssue } from "../../template/types.ts";
import { parseCommandArgs, TEMPLATE_INPUT_FLAGS, templateInputsFrom } from "../../cli/args.ts";
import { kilnRegistry } from "../../registry.ts";

/** One template to validate. */
export interface ValidateJob {
  dir: string;
  file: string;
  args: string[];
}

/** Its answer. */
export interface ValidateAnswer {
  verdict: "accept" | "reject";
  issues: TemplateIssue[];
}

/** Validates every job in a child process (working directories are process-wide). */
export async function validateInDirs(jobs: ValidateJob[]): Promise<ValidateAnswer[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL(import.meta.url).pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(jobs)));
  await writer.close();
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  if (out.code !== 0) {
    throw new Error(`validate_in_dirs failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(text);
}

if (import.meta.main) {
  const jobs: ValidateJob[] = JSON.parse(await new Response(Deno.stdin.readable).text());
  const answers: ValidateAnswer[] = [];
  for (const job of jobs) {
    Deno.chdir(job.dir);
    const inputs = templateInputsFrom(parseCommandArgs(job.args, TEMPLATE_INPUT_FLAGS));
    try {
      await prepareTemplate(job.file, inputs, { registry: kilnRegistry, freshOutputs: true });
      answers.push({ verdict: "accept", issues: [] });
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      answers.push({ verdict: "reject", issues: err.issues });
    }
  }
  console.log(JSON.stringify(answers));
}
