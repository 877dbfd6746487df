/**
 * Small real contexts for calling component plugins directly: a Ui that
 * records lines, the real template engine for `render`, the real schema
 * decoder for configs, the `none` communicator, and temp directories.
 */
import { decodeConfig, renderString } from "../../template/mod.ts";
import type { ConfigSchema } from "../../template/schema.ts";
import type { Artifact, SecretStore, StepContext, Ui } from "../../runtime/types.ts";
import type { ProvisionContext } from "../../provisioners/provisioner.ts";
import type { PostProcessContext } from "../../post_processors/post_processor.ts";
import { noneCommunicator } from "../../communicators/none.ts";
import { withTempDir as inTempDir } from "../support/temp_dir.ts";

/** A Ui that keeps every line by kind. */
export interface RecordingUi extends Ui {
  says: string[];
  messages: string[];
  errors: string[];
}

/** A Ui recording what a component prints. */
export function recordingUi(): RecordingUi {
  const ui = {
    says: [] as string[],
    messages: [] as string[],
    errors: [] as string[],
    say: (m: string) => void ui.says.push(m),
    message: (m: string) => void ui.messages.push(m),
    error: (m: string) => void ui.errors.push(m),
  };
  return ui;
}

/** Problems the real decoder reports for `raw` (messages with their paths). */
export function issues(schema: ConfigSchema, raw: Record<string, unknown>): string[] {
  const found: string[] = [];
  decodeConfig(raw, schema, "c", (path, message) => found.push(`${path}: ${message}`));
  return found;
}

/** Decodes `raw` as the template layer would; throws on any problem. */
export function decode(
  schema: ConfigSchema,
  raw: Record<string, unknown>,
): Record<string, unknown> {
  const found: string[] = [];
  const config = decodeConfig(
    raw,
    schema,
    "c",
    (path, message) => found.push(`${path}: ${message}`),
  );
  if (found.length > 0) throw new Error(found.join("\n"));
  return config;
}

/** Renders like the runtime: user variables, build name/type, component data. */
export function renderer(buildName: string, buildType: string, variables = {}) {
  return (text: string, data?: Record<string, unknown>) =>
    renderString(text, { variables, templateDir: Deno.cwd(), buildName, buildType, data });
}

const secrets: SecretStore = {
  put: () => Promise.reject(new Error("no secrets in component tests")),
  get: () => Promise.resolve(undefined),
  mask: () => {},
  path: (name) => name,
};

/** Events a context emitted. */
export type Emitted = { type: string; data: Record<string, unknown> }[];

/** A provisioner context for build `buildName` of type `builderType`. */
export function provisionContext(
  opts: {
    buildName?: string;
    builderType?: string;
    signal?: AbortSignal;
    buildData?: Record<string, string>;
  } = {},
): { ctx: ProvisionContext; ui: RecordingUi; events: Emitted } {
  const ui = recordingUi();
  const events: Emitted = [];
  const buildName = opts.buildName ?? "null";
  const builderType = opts.builderType ?? "null";
  const ctx: ProvisionContext = {
    runId: "20261122T000000Z-test01",
    buildName,
    builderType,
    comm: noneCommunicator,
    ui,
    signal: opts.signal ?? new AbortController().signal,
    secrets,
    buildData: opts.buildData ?? {},
    render: renderer(buildName, builderType),
    emit: (type, data = {}) => {
      events.push({ type, data });
      return Promise.resolve();
    },
  };
  return { ctx, ui, events };
}

/** A post-processor context. */
export function postContext(
  opts: {
    buildName?: string;
    builderType?: string;
    force?: boolean;
    runId?: string;
    signal?: AbortSignal;
  } = {},
): { ctx: PostProcessContext; ui: RecordingUi } {
  const ui = recordingUi();
  const buildName = opts.buildName ?? "art";
  const builderType = opts.builderType ?? "file";
  return {
    ui,
    ctx: {
      runId: opts.runId ?? "20261122T000000Z-test01",
      buildName,
      builderType,
      ui,
      signal: opts.signal ?? new AbortController().signal,
      force: opts.force ?? false,
      render: renderer(buildName, builderType),
      emit: () => Promise.resolve(),
    },
  };
}

/** Resources a step context recorded. */
export interface Ledger {
  intents: unknown[];
  created: { kind: string; id: string; data?: Record<string, unknown> }[];
}

/** A step context for builder steps. */
export function stepContext(
  config: Record<string, unknown>,
  opts: { buildName?: string; builderType?: string } = {},
): { ctx: StepContext; ui: RecordingUi; ledger: Ledger } {
  const ui = recordingUi();
  const ledger: Ledger = { intents: [], created: [] };
  const buildName = opts.buildName ?? "file";
  const builderType = opts.builderType ?? "file";
  const ctx: StepContext = {
    runId: "20261122T000000Z-test01",
    buildName,
    builderType,
    config,
    state: {},
    ui,
    signal: new AbortController().signal,
    secrets,
    emit: () => Promise.resolve(),
    intent: (i) => {
      ledger.intents.push(i);
      return Promise.resolve();
    },
    created: (r) => {
      ledger.created.push(r);
      return Promise.resolve();
    },
    deleted: () => Promise.resolve(),
    render: renderer(buildName, builderType),
  };
  return { ctx, ui, ledger };
}

/** A file-list artifact. */
export function artifactOf(files: string[], id = "File"): Artifact {
  return { builderId: "packer.file", id, files, description: `Stored file: ${files[0] ?? ""}` };
}

/** Runs `fn` with a fresh temp dir, removed afterwards. */
export function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  return inTempDir(fn, "kiln-components-");
}

/** Runs a system command; returns its exit code and output. */
export async function sh(
  cmd: string,
  args: string[],
  cwd?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A fixture recorded from Packer 1.6.6 (tests/fixtures/packer/). */
export function fixture(name: string): Promise<string> {
  return Deno.readTextFile(new URL(`../fixtures/packer/${name}`, import.meta.url));
}

/** A template of the fixture set, parsed. */
export async function fixtureTemplate(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fixture(`templates/${name}`));
}
