/** Builders for hand-made envelopes: real bytes, each damaged in one precise way. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { HEADER_LENGTH } from '../../src/evidence/envelope.js';

export const FIXTURES = new URL('../../fixtures/tracehound/', import.meta.url);

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** A copy of `envelope` with the header's hash field recomputed over its compressed region. */
export function rehash(envelope: Buffer): Buffer {
  const out = Buffer.from(envelope);
  out.write(sha256(out.subarray(HEADER_LENGTH)), 14, 'latin1');
  return out;
}

/** A copy of `envelope` changed by `edit`. */
export function edited(envelope: Buffer, edit: (b: Buffer) => void): Buffer {
  const out = Buffer.from(envelope);
  edit(out);
  return out;
}

export interface MemberOptions {
  extra?: Buffer;
  name?: string;
  comment?: string;
  headerCrc?: boolean;
  /** Overrides the CRC16 written for FHCRC. */
  badHeaderCrc?: boolean;
}

/** A gzip member assembled field by field (RFC 1952), for header flags zlib never writes. */
export function gzipMember(data: Buffer, opts: MemberOptions = {}): Buffer {
  let flg = 0;
  const parts: Buffer[] = [];
  if (opts.extra !== undefined) {
    flg |= 0x04;
    const len = Buffer.alloc(2);
    len.writeUInt16LE(opts.extra.length);
    parts.push(len, opts.extra);
  }
  if (opts.name !== undefined) {
    flg |= 0x08;
    parts.push(Buffer.from(opts.name + '\0', 'latin1'));
  }
  if (opts.comment !== undefined) {
    flg |= 0x10;
    parts.push(Buffer.from(opts.comment + '\0', 'latin1'));
  }
  if (opts.headerCrc === true) flg |= 0x02;
  let header = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, flg, 0, 0, 0, 0, 0, 0x03]), ...parts]);
  if (opts.headerCrc === true) {
    const crc16 = Buffer.alloc(2);
    crc16.writeUInt16LE((zlib.crc32(header) & 0xffff) ^ (opts.badHeaderCrc === true ? 1 : 0));
    header = Buffer.concat([header, crc16]);
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(zlib.crc32(data), 0);
  trailer.writeUInt32LE(data.length % 0x1_0000_0000, 4);
  return Buffer.concat([header, zlib.deflateRawSync(data), trailer]);
}

/** A gzip member of `size` zero bytes, compressed at level 9 without holding them in memory. */
export async function zeroBomb(size: number): Promise<Buffer> {
  const block = Buffer.alloc(1024 * 1024);
  function* zeros(): Generator<Buffer> {
    for (let left = size; left > 0; left -= block.length) yield left >= block.length ? block : block.subarray(0, left);
  }
  const parts: Buffer[] = [];
  await pipeline(Readable.from(zeros()), zlib.createGzip({ level: 9 }), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) parts.push(chunk);
  });
  return Buffer.concat(parts);
}
