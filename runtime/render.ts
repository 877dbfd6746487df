/**
 * Turns event records into terminal text, Packer-style. Used live (the
 * terminal subscribes to the log) and by `kiln replay` (fed from the file),
 * so both print the same thing.
 */
import type { EventRecord } from "./events.ts";
import { EventType as E } from "./events.ts";
import type { UiEventData } from "./ui.ts";
import type { Artifact } from "./types.ts";

/** How output is presented. */
export interface RenderOptions {
  color: boolean;
  machineReadable: boolean;
  /** Prefix human lines with an RFC 3339 timestamp (`-timestamp-ui`). */
  timestamp: boolean;
}

// Packer's per-build palette, in order of the sorted build names.
const palette = ["32", "36", "35", "33", "34"];

/** Escapes a machine-readable field as Packer does. */
export function machineField(text: string): string {
  return text.replaceAll(",", "%!(PACKER_COMMA)").replaceAll("\r", "\\r").replaceAll("\n", "\\n");
}

/** Renders events to lines of text. Stateful: remembers build colours. */
export class Renderer {
  #opts: RenderOptions;
  #colors = new Map<string, string>();
  #artifacts = new Map<string, Artifact[]>();
  #listed = new Set<string>();

  constructor(opts: RenderOptions) {
    this.#opts = opts;
  }

  /** The lines (without newline) that `record` prints; usually none. */
  render(record: EventRecord): string[] {
    if (record.type === E.RunStarted) {
      const builds = [...((record.data.builds as string[]) ?? [])].sort();
      builds.forEach((b, i) => this.#colors.set(b, palette[i % palette.length]));
      // Packer announces build colours only when it uses them.
      if (this.#opts.machineReadable || !this.#opts.color) return [];
      return builds.length === 0
        ? []
        : [...builds.map((b) => this.#paint(b, "1", `${b}: output will be in this color.`)), ""];
    }
    if (record.type === E.BuildFinished) {
      this.#artifacts.set(record.build!, (record.data.artifacts as Artifact[]) ?? []);
      return [];
    }
    if (record.type !== E.Ui) return [];
    const d = record.data as unknown as UiEventData;
    const lines = d.message.split("\n");
    if (this.#opts.machineReadable) {
      const text = lines.map((l) => this.#plain(d, l)).join("\n");
      const kind = d.level === "raw" ? "say" : d.level;
      const ui = `${unix(record.ts)},,ui,${kind},${machineField(text)}`;
      // Packer lists a build's artifact records just before its summary line.
      const of = d.artifactsOf;
      if (of === undefined) return [ui];
      const all = this.#artifacts.get(of) ?? [];
      const first = !this.#listed.has(of);
      this.#listed.add(of);
      const t = unix(record.ts);
      const count = first ? [`${t},${machineField(of)},artifact-count,${all.length}`] : [];
      if (d.artifactIndex === undefined) {
        // Logged before kiln recorded the index: every record before the first line.
        return first
          ? [...count, ...all.flatMap((a, i) => this.#artifactLines(of, a, i, t)), ui]
          : [
            ui,
          ];
      }
      const a = all[d.artifactIndex];
      return [...count, ...(a ? this.#artifactLines(of, a, d.artifactIndex, t) : []), ui];
    }
    const style = d.level === "error" ? "1" : d.level === "message" ? "0" : "1";
    return lines.map((line, i) => {
      let plain = this.#plain(d, line);
      // Packer trims the end of a prefixed message, so an empty output line
      // prints as "    null:" with no trailing space.
      if (i === lines.length - 1 && plain !== line) plain = plain.trimEnd();
      const text = this.#stamp(record.ts) + plain;
      if (d.level === "error") return this.#opts.color ? `\x1b[1;31m${text}\x1b[0m` : text;
      return record.build ? this.#paint(record.build, style, text) : text;
    });
  }

  #plain(d: UiEventData, line: string): string {
    if (d.level === "raw" || d.prefix === undefined) return line;
    return d.level === "message" ? `    ${d.prefix}: ${line}` : `==> ${d.prefix}: ${line}`;
  }

  #stamp(ts: string): string {
    return this.#opts.timestamp ? `${ts.replace(/\.\d+Z$/, "Z")}: ` : "";
  }

  #paint(build: string, weight: string, text: string): string {
    if (!this.#opts.color || text === "") return text;
    return `\x1b[${weight};${this.#colors.get(build) ?? palette[0]}m${text}\x1b[0m`;
  }

  #artifactLines(build: string, a: Artifact, i: number, t: number): string[] {
    const b = machineField(build);
    return [
      `${t},${b},artifact,${i},builder-id,${machineField(a.builderId)}`,
      `${t},${b},artifact,${i},id,${machineField(a.id)}`,
      `${t},${b},artifact,${i},string,${machineField(a.description)}`,
      `${t},${b},artifact,${i},files-count,${a.files.length}`,
      ...a.files.map((f, j) => `${t},${b},artifact,${i},file,${j},${machineField(f)}`),
      `${t},${b},artifact,${i},end`,
    ];
  }
}

function unix(ts: string): number {
  return Math.floor(Date.parse(ts) / 1000);
}
