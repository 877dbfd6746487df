/**
 * Packer's floppy and CD options: files, directories and inline content put
 * on a disk attached to the guest at boot (e.g. a cloud-init `cidata` seed).
 * Listed paths must exist when the template is prepared; a glob is expanded
 * when the disk is made.
 */
import type { ConfigSchema } from "../../template/schema.ts";
import { isGlob, statProblem } from "./go_errors.ts";

function checkPaths(
  config: Record<string, unknown>,
  key: string,
  what: string,
  report: (key: string, message: string) => void,
) {
  const paths = (config[key] as string[] | undefined) ?? [];
  paths.forEach((path, i) => {
    if (isGlob(path)) return;
    const problem = statProblem(path);
    if (problem) report(`${key}[${i}]`, `Bad ${what} '${path}': ${problem}`);
  });
  config[key] = paths;
}

/** The floppy options. */
export const floppyConfigSchema: ConfigSchema = {
  fields: {
    floppy_files: { type: "string_list", doc: "files (globs, directories) put on a floppy" },
    floppy_dirs: { type: "string_list", doc: "directories copied with their structure" },
    floppy_content: { type: "string_map", doc: 'inline files: {"path": "content"}' },
    floppy_label: { type: "string", doc: "volume label" },
  },
  prepare(config, report) {
    checkPaths(config, "floppy_files", "Floppy disk file", report);
    checkPaths(config, "floppy_dirs", "Floppy disk directory", report);
  },
};

/** The CD options. */
export const cdConfigSchema: ConfigSchema = {
  fields: {
    cd_files: { type: "string_list", doc: "files and directories (globs allowed) put on a CD" },
    cd_content: { type: "string_map", doc: 'inline files: {"path": "content"}' },
    cd_label: { type: "string", doc: 'volume label (e.g. "cidata" for cloud-init)' },
  },
  prepare(config, report) {
    checkPaths(config, "cd_files", "CD disk file", report);
  },
};
