/**
 * How the qemu builder reaches its guest: the communicator options plus the
 * host port forwarded (user-mode networking) to the guest's SSH or WinRM
 * port. kiln binds that forward to 127.0.0.1 only.
 */
import type { ConfigSchema } from "../../template/schema.ts";
import { communicatorSchema } from "../../communicators/config.ts";
import { composeSchema } from "../../template/schema.ts";
import { zeroDefault } from "../common/zero.ts";

const ports: ConfigSchema = {
  fields: {
    host_port_min: { type: "int", doc: "lowest host port forwarded to the guest (default 2222)" },
    host_port_max: { type: "int", doc: "highest host port forwarded to the guest (default 4444)" },
    skip_nat_mapping: { type: "bool", doc: "no port forward: connect to ssh_host:ssh_port" },
    ssh_host_port_min: { type: "int", doc: "deprecated spelling of host_port_min" },
    ssh_host_port_max: { type: "int", doc: "deprecated spelling of host_port_max" },
    // A communicator option Packer has that kiln's shared schema lacks.
    winrm_no_proxy: { type: "bool", doc: "bypass proxies for the WinRM host" },
  },
  deprecated: ["ssh_key_path", "ssh_disable_agent", "ssh_skip_nat_mapping"],
  prepare(config, report) {
    if (config.ssh_host_port_min) config.host_port_min = config.ssh_host_port_min;
    if (config.ssh_host_port_max) config.host_port_max = config.ssh_host_port_max;
    delete config.ssh_host_port_min;
    delete config.ssh_host_port_max;
    zeroDefault(config, "host_port_min", 2222);
    zeroDefault(config, "host_port_max", 4444);
    const host = config.communicator === "winrm" ? config.winrm_host : config.ssh_host;
    if (!host && config.skip_nat_mapping === true) {
      config.ssh_host = "127.0.0.1";
      config.winrm_host = "127.0.0.1";
    }
    if (Number(config.host_port_min) > Number(config.host_port_max)) {
      report("host_port_min", "host_port_min must be less than host_port_max");
    }
    if (Number(config.host_port_min) < 0) {
      report("host_port_min", "host_port_min must be positive");
    }
  },
};

/** The qemu builder's communicator options (ssh by default). */
export const qemuCommSchema: ConfigSchema = composeSchema(communicatorSchema("ssh"), ports);
