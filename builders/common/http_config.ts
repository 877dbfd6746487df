/**
 * Packer's HTTP server options (`http_directory`/`http_content`, ports,
 * bind address): the files a guest fetches during boot, reachable from the
 * boot command as `{{ .HTTPIP }}:{{ .HTTPPort }}`.
 */
import type { ConfigSchema } from "../../template/schema.ts";
import { zeroDefault } from "./zero.ts";

const PROTOCOLS = ["tcp", "tcp4", "tcp6", "unix", "unixpacket"];

/** The HTTP server options of every builder that serves files to its guest. */
export const httpConfigSchema: ConfigSchema = {
  fields: {
    http_directory: { type: "string", doc: "directory served to the guest" },
    http_content: { type: "string_map", doc: 'files served from memory: {"/path": "content"}' },
    http_port_min: { type: "int", doc: "lowest port tried (default 8000)" },
    http_port_max: { type: "int", doc: "highest port tried (default 9000)" },
    http_bind_address: { type: "string", doc: "address the server listens on (default 0.0.0.0)" },
    http_interface: { type: "string", doc: "listen on this interface's address" },
    http_network_protocol: { type: "string", doc: "tcp (default), tcp4, tcp6, unix, unixpacket" },
  },
  prepare(config, report) {
    zeroDefault(config, "http_port_min", 8000);
    zeroDefault(config, "http_port_max", 9000);
    if (config.http_interface && config.http_bind_address) {
      report("http_interface", "either http_interface or http_bind_address can be specified");
    }
    zeroDefault(config, "http_bind_address", "0.0.0.0");
    if (Number(config.http_port_min) > Number(config.http_port_max)) {
      report("http_port_min", "http_port_min must be less than http_port_max");
    }
    const content = config.http_content as Record<string, string> | undefined;
    if (content && Object.keys(content).length > 0 && config.http_directory) {
      report(
        "http_content",
        "http_content cannot be used in conjunction with http_dir. Consider using the file " +
          "function to load file in memory and serve them with http_content: " +
          "https://www.packer.io/docs/templates/hcl_templates/functions/file/file",
      );
    }
    zeroDefault(config, "http_network_protocol", "tcp");
    if (!PROTOCOLS.includes(String(config.http_network_protocol))) {
      report(
        "http_network_protocol",
        `http_network_protocol is invalid. Must be one of: [${PROTOCOLS.join(" ")}]`,
      );
    }
  },
};
