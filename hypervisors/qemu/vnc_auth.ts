/**
 * RFB's VNC Authentication: the 16-byte challenge encrypted with DES under
 * the password, each of whose bytes is bit-reversed (RFB 6143 §7.2.2 and the
 * errata every server follows).
 *
 * DES comes from node:crypto's `des-ede3-cbc` with the key repeated three
 * times, which is single DES (encrypt, decrypt, encrypt under one key), and
 * one block at a time with a zero IV, which is ECB. No DES code of our own.
 */
import { createCipheriv } from "node:crypto";

/** The password as RFB uses it: its first 8 bytes (Latin-1), zero-padded, each byte's bits reversed. */
export function vncDesKey(password: string): Uint8Array {
  const key = new Uint8Array(8);
  for (let i = 0; i < 8 && i < password.length; i++) {
    key[i] = reverseBits(password.charCodeAt(i) & 0xff);
  }
  return key;
}

/** Single DES in ECB mode over whole 8-byte blocks. */
export function desEcbEncrypt(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (key.length !== 8 || data.length % 8 !== 0) {
    throw new Error("DES needs an 8-byte key and whole 8-byte blocks");
  }
  const tripled = new Uint8Array(24);
  tripled.set(key, 0);
  tripled.set(key, 8);
  tripled.set(key, 16);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i += 8) {
    const cipher = createCipheriv("des-ede3-cbc", tripled, new Uint8Array(8));
    cipher.setAutoPadding(false);
    const block = cipher.update(data.subarray(i, i + 8));
    cipher.final();
    out.set(block, i);
  }
  return out;
}

/** The 16-byte response to a VNC Authentication challenge. */
export function vncAuthResponse(password: string, challenge: Uint8Array): Uint8Array {
  if (challenge.length !== 16) throw new Error("a VNC challenge is 16 bytes");
  return desEcbEncrypt(vncDesKey(password), challenge);
}

function reverseBits(b: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) r |= ((b >> i) & 1) << (7 - i);
  return r;
}
