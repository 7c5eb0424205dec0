/**
 * Byte helpers shared by the crypto modules. Decoders are strict and return undefined
 * instead of guessing: Buffer.from(text, 'base64') silently skips characters it does not
 * know, so " AAAA" and "AA=AA" would decode, and two texts would name the same bytes.
 * Each caller turns undefined into its own typed error with the offending text.
 */

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;
// RFC 4648 section 4, padded; nothing else (no whitespace, no URL alphabet).
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Even-length hex, either case. */
export function fromHex(text: string): Uint8Array | undefined {
  if (!HEX_RE.test(text)) return undefined;
  return Buffer.from(text, 'hex');
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Standard padded base64 in canonical form only: the unused bits of the last group must
 * be zero (RFC 4648 section 3.5), so every byte string has exactly one accepted text.
 */
export function fromBase64(text: string): Uint8Array | undefined {
  if (!BASE64_RE.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
