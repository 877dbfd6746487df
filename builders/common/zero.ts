/** Packer's "zero value means default" rule, which schema defaults (absent only) do not cover. */

/** Go's zero value as a decoded option: absent, "", 0 or false. */
export function isZero(value: unknown): boolean {
  return value === undefined || value === null || value === "" || value === 0 || value === false;
}

/** Packer's `if c.X == zero { c.X = value }`: an explicit 0 or "" takes the default too. */
export function zeroDefault(config: Record<string, unknown>, key: string, value: unknown): void {
  if (isZero(config[key])) config[key] = value;
}
