/**
 * The inventory Packer generates for one host: a line naming the host by
 * its alias with where and as whom to connect, then that line again under
 * each group, then each empty group's header.
 */

/** Where Ansible connects. */
export interface InventoryHost {
  alias: string;
  host: string;
  port: string | number;
  user: string;
}

/** The inventory file's text. */
export function inventoryText(h: InventoryHost, groups: string[], emptyGroups: string[]): string {
  const line = `${h.alias} ansible_host=${h.host} ansible_user=${h.user} ansible_port=${h.port}\n`;
  let text = line;
  for (const g of groups) text += `[${g}]\n${line}`;
  for (const g of emptyGroups) text += `[${g}]\n`;
  return text;
}
