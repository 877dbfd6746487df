/**
 * Packer's ISO options (`iso_url`/`iso_urls`, `iso_checksum`, target path
 * and extension) with its Prepare: exactly one source, a checksum in a form
 * go-getter reads, and a local `file:` checksum file that names the ISO.
 * A checksum file behind http(s) is read by the download step at build
 * time, not here: validation stays offline (Packer downloads it to validate).
 */
import { resolve } from "node:path";
import type { ConfigSchema } from "../../template/schema.ts";
import {
  ChecksumError,
  checksumFileLocation,
  digestFromChecksumFile,
  parseChecksum,
} from "./checksum.ts";
import { errnoText, goQuote } from "./go_errors.ts";

/** Go's url.Parse refusals that a real ISO URL can hit. */
function urlProblem(url: string): string | undefined {
  if ([...url].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) {
    return `url parse: parse ${goQuote(url)}: net/url: invalid control character in URL`;
  }
  const host = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1];
  if (host?.includes("[") && !host.includes("]")) {
    return `url parse: parse ${goQuote(url)}: missing ']' in host`;
  }
  return undefined;
}

/** Reads a local checksum file as go-getter's file getter would, or says why not. */
function readChecksumFile(path: string): string {
  // go-getter resolves a relative path against the working directory, and says so.
  const shown = path === "" ? "" : resolve(path);
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(shown);
  } catch (err) {
    throw new ChecksumError(
      `Error downloading checksum file: source path error: stat ${shown}: ${errnoText(err)}`,
    );
  }
  if (!info.isFile) {
    throw new ChecksumError("Error downloading checksum file: source path must be a file");
  }
  return Deno.readTextFileSync(path);
}

/** Checks `iso_checksum` against the first ISO URL, as Packer's ISOConfig.Prepare. */
function checksumProblem(checksum: string, firstUrl: string): string | undefined {
  const badUrl = urlProblem(firstUrl);
  if (badUrl) return badUrl;
  try {
    const spec = parseChecksum(checksum);
    if (spec.kind !== "file") return undefined;
    const where = checksumFileLocation(spec.source);
    if ("url" in where) return undefined;
    digestFromChecksumFile(readChecksumFile(where.local), spec.source, firstUrl);
    return undefined;
  } catch (err) {
    if (!(err instanceof ChecksumError)) throw err;
    return `${err.message} in ${goQuote(checksum)}`;
  }
}

/** The ISO options of every ISO-booting builder (qemu, virtualbox-iso, ...). */
export const isoConfigSchema: ConfigSchema = {
  fields: {
    iso_url: { type: "string", doc: "URL or path of the ISO (or disk image with disk_image)" },
    iso_urls: { type: "string_list", doc: "URLs tried in order; only one of iso_url/iso_urls" },
    iso_checksum: {
      type: "string",
      doc: "none, md5:/sha1:/sha256:/sha512:<hex>, bare <hex>, or file:<path or URL>",
    },
    iso_target_path: { type: "string", doc: "where the download is kept (default: the cache)" },
    iso_target_extension: { type: "string", doc: "extension of the download (default iso)" },
  },
  deprecated: ["iso_md5", "iso_checksum_url", "iso_checksum_type"],
  prepare(config, report) {
    const single = typeof config.iso_url === "string" ? config.iso_url : "";
    const urls = (config.iso_urls as string[] | undefined) ?? [];
    if (urls.length > 0 && single !== "") {
      report("iso_urls", "Only one of iso_url or iso_urls must be specified");
      return;
    }
    config.iso_urls = single !== "" ? [single, ...urls] : urls;
    delete config.iso_url;
    if ((config.iso_urls as string[]).length === 0) {
      report("iso_url", "One of iso_url or iso_urls must be specified");
      return;
    }
    config.iso_target_extension = String(config.iso_target_extension || "iso").toLowerCase();
    const checksum = typeof config.iso_checksum === "string" ? config.iso_checksum : "";
    if (checksum === "none") return;
    if (checksum === "") {
      report("iso_checksum", "A checksum must be specified");
      return;
    }
    const problem = checksumProblem(checksum, (config.iso_urls as string[])[0]);
    if (problem) report("iso_checksum", problem);
    // An unparsable URL ends Packer's ISO checks before the checksum is looked at.
    if (problem && !problem.startsWith("url parse") && checksum.toLowerCase().endsWith(".iso")) {
      report("iso_checksum", "Error parsing checksum: .iso is not a valid checksum ending");
    }
  },
};
