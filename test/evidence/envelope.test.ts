import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { StaxError } from '../../src/errors.js';
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  ENVELOPE_FAILURES,
  HEADER_LENGTH,
  MAX_COMPRESSED_SIZE,
  assembleEnvelope,
  buildEnvelope,
  inspectEnvelope,
  type EnvelopeReport,
  type EnvelopeVerdict,
} from '../../src/evidence/envelope.js';
import { FIXTURES, edited, gzipMember, rehash, sha256, zeroBomb } from './helpers.js';

const fixtureDir = fileURLToPath(FIXTURES);
const samples = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.thcs'))
  .sort();

const payload = { path: '/login', method: 'POST', body: { user: "admin' --", pass: 'x' } };
const good = buildEnvelope(payload, { category: 'injection' });

const inspect = (bytes: Buffer, name: string | undefined = good.fileName, options = {}): Promise<EnvelopeReport> =>
  inspectEnvelope(name === undefined ? { bytes } : { bytes, name }, options);

/** The compressed region of `good` replaced by `compressed`, header hash recomputed. */
const withCompressed = (compressed: Buffer, originalSize = good.payload.length): Buffer =>
  assembleEnvelope(compressed, originalSize);

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'stax-evidence-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('the Tracehound samples', () => {
  it('finds three samples', () => {
    expect(samples).toHaveLength(3);
  });

  it.each(samples)('%s is OK, checked against its name', async (fileName) => {
    const report = await inspectEnvelope({ path: join(fixtureDir, fileName) });
    const [category, hash] = fileName.replace(/\.thcs$/, '').split(':');
    expect(report.verdict).toBe('OK');
    expect(report.evidence).toBeNull();
    expect(report.signature).toEqual({ category, hash });
    expect(report.signatureSource).toBe('name');
    expect(report.payloadHash).toBe(hash);
    expect(report.payloadJson).toBe('canonical');
    expect(report.members).toBe(1);
    expect(report.inflatedBytes).toBe(report.originalSize);
    expect(report.fileSize).toBe(HEADER_LENGTH + report.compressedSize!);
    expect(report.actualHash).toBe(report.declaredHash);
    expect(report.message).toContain('intact');
  });

  it.each(samples)('buildEnvelope reproduces %s byte for byte', (fileName) => {
    const bytes = readFileSync(join(fixtureDir, fileName));
    const inflated = zlib.gunzipSync(bytes.subarray(HEADER_LENGTH));
    const category = fileName.split(':')[0]!;
    const built = buildEnvelope(JSON.parse(inflated.toString('utf8')) as object, { category });
    expect(built.fileName).toBe(fileName);
    expect(built.payload.equals(inflated)).toBe(true);
    expect(built.bytes.equals(bytes)).toBe(true);
  });

  it('reports PAYLOAD_HASH_MISMATCH when a sample is stored under another sample’s name', async () => {
    const [a, b] = samples as [string, string];
    const report = await inspectEnvelope({ bytes: readFileSync(join(fixtureDir, a)), name: b });
    expect(report.verdict).toBe('PAYLOAD_HASH_MISMATCH');
    expect(report.evidence?.expected).toContain(b.split(':')[1]!.slice(0, 64));
    expect(report.evidence?.found).toBe(a.split(':')[1]!.slice(0, 64));
  });
});

describe('verdicts, in check order', () => {
  it('the codes and their order are stable (each has a block below)', () => {
    const tested: EnvelopeVerdict[] = [
      'BAD_MAGIC', 'BAD_VERSION', 'TRUNCATED', 'TOO_LARGE', 'TRAILING_BYTES', 'BAD_HASH_FIELD', 'HASH_MISMATCH',
      'BAD_GZIP', 'BAD_CRC', 'SIZE_EXCEEDED', 'SIZE_MISMATCH', 'BAD_SIGNATURE_NAME', 'PAYLOAD_HASH_MISMATCH',
    ];
    expect([...ENVELOPE_FAILURES]).toEqual(tested);
  });

  it('OK for a freshly built envelope', async () => {
    const report = await inspect(good.bytes);
    expect(report.verdict).toBe('OK');
    expect(report.payload?.equals(good.payload)).toBe(true);
  });

  describe('BAD_MAGIC', () => {
    it.each([
      ['another magic', edited(good.bytes, (b) => b.write('THCX', 0, 'latin1')), '54 48 43 58'],
      ['JSON', Buffer.from('{"path":"/"}'), '7b 22 70 61'],
      ['two bytes', Buffer.from('XY'), '58 59'],
    ])('%s', async (_what, bytes, found) => {
      const report = await inspect(bytes);
      expect(report.verdict).toBe('BAD_MAGIC');
      expect(report.evidence).toEqual({ expected: '54 48 43 53 ("THCS")', found });
    });
  });

  it('BAD_VERSION', async () => {
    const report = await inspect(assembleEnvelope(zlib.gzipSync(good.payload), good.payload.length, { version: 2 }));
    expect(report.verdict).toBe('BAD_VERSION');
    expect(report.evidence).toEqual({ expected: '1', found: '2' });
    expect(report.version).toBe(2);
  });

  describe('TRUNCATED', () => {
    it.each([
      ['an empty file', Buffer.alloc(0)],
      ['only "TH"', Buffer.from('TH')],
      ['half a header', good.bytes.subarray(0, 40)],
    ])('%s: shorter than the header', async (_what, bytes) => {
      const report = await inspect(bytes);
      expect(report.verdict).toBe('TRUNCATED');
      expect(report.evidence).toEqual({ expected: `at least ${HEADER_LENGTH} bytes (header)`, found: String(bytes.length) });
    });

    it('shorter than 78 + compressedSize', async () => {
      const bytes = good.bytes.subarray(0, good.bytes.length - 1);
      const report = await inspect(bytes);
      expect(report.verdict).toBe('TRUNCATED');
      expect(report.evidence?.found).toBe(String(bytes.length));
      expect(report.actualHash).toBeNull();
    });

    it('from a file, reading at most one chunk more than is there', async () => {
      // Claims 200 MiB (under the cap) over 100 bytes of data.
      const bytes = edited(good.bytes, (b) => b.writeUInt32BE(200 * 1024 * 1024, 10));
      const file = join(tmp, 'short.thcs');
      writeFileSync(file, bytes);
      const alloc = vi.spyOn(Buffer, 'alloc');
      try {
        const report = await inspectEnvelope({ path: file });
        expect(report.verdict).toBe('TRUNCATED');
        expect(report.fileSize).toBe(bytes.length);
        expect(alloc).toHaveBeenCalled();
        const largest = Math.max(...alloc.mock.calls.map((call) => call[0]));
        expect(largest).toBeLessThanOrEqual(1024 * 1024);
      } finally {
        alloc.mockRestore();
      }
    });
  });

  describe('TOO_LARGE', () => {
    it('a 4 GB compressedSize claim is refused before anything is read or allocated', async () => {
      const bytes = edited(good.bytes, (b) => b.writeUInt32BE(0xffff_ffff, 10));
      const file = join(tmp, 'huge.thcs');
      writeFileSync(file, bytes);
      const alloc = vi.spyOn(Buffer, 'alloc');
      try {
        for (const report of [await inspect(bytes), await inspectEnvelope({ path: file })]) {
          expect(report.verdict).toBe('TOO_LARGE');
          expect(report.evidence).toEqual({ expected: `at most ${MAX_COMPRESSED_SIZE} bytes`, found: '4294967295' });
        }
        expect(alloc).toHaveBeenCalled();
        const largest = Math.max(...alloc.mock.calls.map((call) => call[0]));
        expect(largest).toBeLessThanOrEqual(HEADER_LENGTH);
      } finally {
        alloc.mockRestore();
      }
    });

    it('a 4 GB originalSize claim', async () => {
      const report = await inspect(edited(good.bytes, (b) => b.writeUInt32BE(0xffff_ffff, 6)));
      expect(report.verdict).toBe('TOO_LARGE');
      expect(report.evidence?.found).toBe('4294967295');
    });

    it('a lower cap given as an option', async () => {
      const report = await inspect(good.bytes, good.fileName, { maxCompressedSize: 10 });
      expect(report.verdict).toBe('TOO_LARGE');
      expect(report.message).toBe(`compressedSize: expected at most 10 bytes, found ${good.bytes.length - HEADER_LENGTH}`);
    });

    it('refuses a cap above the ceiling', async () => {
      await expect(inspect(good.bytes, good.fileName, { maxCompressedSize: MAX_COMPRESSED_SIZE + 1 })).rejects.toThrow(
        StaxError,
      );
    });
  });

  describe('TRAILING_BYTES', () => {
    it.each([1, 1000])('%i bytes after the envelope', async (extra) => {
      const bytes = Buffer.concat([good.bytes, Buffer.alloc(extra, 0x41)]);
      const report = await inspect(bytes);
      expect(report.verdict).toBe('TRAILING_BYTES');
      expect(report.evidence?.found).toBe(String(bytes.length));
      expect(report.actualHash).toBe(report.declaredHash);
    });

    it('from a file, reporting its real size', async () => {
      const file = join(tmp, good.fileName.replace(':', '_'));
      writeFileSync(file, Buffer.concat([good.bytes, Buffer.alloc(5000)]));
      const report = await inspectEnvelope({ path: file });
      expect(report.verdict).toBe('TRAILING_BYTES');
      expect(report.fileSize).toBe(good.bytes.length + 5000);
    });
  });

  describe('BAD_HASH_FIELD', () => {
    it('uppercase hex, even though it names the right hash', async () => {
      const upper = edited(good.bytes, (b) => b.write(b.toString('latin1', 14, 78).toUpperCase(), 14, 'latin1'));
      const report = await inspect(upper);
      expect(report.verdict).toBe('BAD_HASH_FIELD');
      expect(report.evidence?.expected).toBe('64 lowercase hex characters');
    });

    it('escape sequences in the field stay out of the message', async () => {
      const bytes = edited(good.bytes, (b) => b.write('\x1b]0;owned\x07\x1b[2J', 14, 'latin1'));
      const report = await inspect(bytes);
      expect(report.verdict).toBe('BAD_HASH_FIELD');
      expect(report.message).not.toMatch(/[\x00-\x1f\x7f]/);
      expect(report.message).toContain('\\x1b]0;owned\\x07');
    });
  });

  it('HASH_MISMATCH when one compressed byte changes', async () => {
    const bytes = edited(good.bytes, (b) => {
      b[b.length - 1]! ^= 0x01;
    });
    const report = await inspect(bytes);
    expect(report.verdict).toBe('HASH_MISMATCH');
    expect(report.evidence).toEqual({ expected: `${report.declaredHash} (header)`, found: sha256(bytes.subarray(HEADER_LENGTH)) });
    expect(report.inflatedBytes).toBe(0);
  });

  describe('BAD_GZIP', () => {
    it('corrupt deflate data', async () => {
      // Block type 3 is reserved (RFC 1951 §3.2.3).
      const bytes = rehash(edited(good.bytes, (b) => (b[HEADER_LENGTH + 10]! |= 0x06)));
      const report = await inspect(bytes);
      expect(report.verdict).toBe('BAD_GZIP');
      expect(report.message).toMatch(/^gzip member 1 at file offset 78 deflate data: expected a valid deflate stream, found /);
    });

    it('data that is not gzip at all', async () => {
      const report = await inspect(withCompressed(zlib.deflateRawSync(good.payload)));
      expect(report.verdict).toBe('BAD_GZIP');
      expect(report.evidence?.expected).toBe('1f 8b');
      expect(report.members).toBe(1);
    });

    it('garbage after the last member, inside the hashed region', async () => {
      const report = await inspect(withCompressed(Buffer.concat([zlib.gzipSync(good.payload), Buffer.from('<?php system($_GET[c]);')])));
      expect(report.verdict).toBe('BAD_GZIP');
      expect(report.evidence?.found).toMatch(/^23 trailing bytes starting 3c 3f 70 68$/);
      expect(report.inflatedBytes).toBe(good.payload.length);
    });

    it('zero padding after the last member, which Node’s gunzip would accept', async () => {
      const compressed = Buffer.concat([zlib.gzipSync(good.payload), Buffer.alloc(4)]);
      expect(zlib.gunzipSync(compressed).equals(good.payload)).toBe(true);
      expect((await inspect(withCompressed(compressed))).verdict).toBe('BAD_GZIP');
    });

    it('a member cut inside its trailer', async () => {
      const gz = zlib.gzipSync(good.payload);
      const report = await inspect(withCompressed(gz.subarray(0, gz.length - 3)));
      expect(report.verdict).toBe('BAD_GZIP');
      expect(report.message).toMatch(/trailer: expected 8 bytes \(CRC32, ISIZE\), found 5$/);
    });

    it('a member cut inside its deflate data', async () => {
      const gz = zlib.gzipSync(good.payload);
      expect((await inspect(withCompressed(gz.subarray(0, 20)))).verdict).toBe('BAD_GZIP');
    });

    it('an ISIZE that disagrees with the data', async () => {
      const gz = edited(zlib.gzipSync(good.payload), (b) => b.writeUInt32LE(good.payload.length + 1, b.length - 4));
      const report = await inspect(withCompressed(gz));
      expect(report.verdict).toBe('BAD_GZIP');
      expect(report.evidence).toEqual({ expected: `${good.payload.length + 1} (trailer)`, found: `${good.payload.length} bytes inflated` });
    });

    it('an empty compressed region', async () => {
      expect((await inspect(withCompressed(Buffer.alloc(0)))).verdict).toBe('BAD_GZIP');
    });

    it('reserved header flags', async () => {
      const gz = edited(zlib.gzipSync(good.payload), (b) => (b[3] = 0x20));
      expect((await inspect(withCompressed(gz))).evidence).toEqual({ expected: 'reserved bits 5-7 clear', found: '0x20' });
    });
  });

  describe('BAD_CRC', () => {
    it('a flipped CRC32 byte, with the header hash recomputed so the hash check passes', async () => {
      const crcAt = good.bytes.length - 8;
      const bytes = rehash(edited(good.bytes, (b) => (b[crcAt]! ^= 0xff)));
      const report = await inspect(bytes);
      expect(report.actualHash).toBe(report.declaredHash);
      expect(report.verdict).toBe('BAD_CRC');
      const stored = bytes.readUInt32LE(crcAt).toString(16).padStart(8, '0');
      const computed = zlib.crc32(good.payload).toString(16).padStart(8, '0');
      expect(report.evidence).toEqual({ expected: `0x${stored} (trailer)`, found: `0x${computed} (computed)` });
      expect(report.payloadHash).toBeNull();
      expect(report.payload).toBeUndefined();
    });

    it('a wrong FHCRC header checksum', async () => {
      const report = await inspect(withCompressed(gzipMember(good.payload, { name: 'x', headerCrc: true, badHeaderCrc: true })));
      expect(report.verdict).toBe('BAD_CRC');
      expect(report.message).toMatch(/header CRC16/);
    });
  });

  describe('SIZE_EXCEEDED', () => {
    it('one byte more than originalSize', async () => {
      const n = good.payload.length;
      const report = await inspect(withCompressed(zlib.gzipSync(good.payload), n - 1));
      expect(report.verdict).toBe('SIZE_EXCEEDED');
      expect(report.inflatedBytes).toBe(n);
      expect(report.payload).toBeUndefined();
    });

    it('a gzip bomb claiming 100 bytes is stopped after about 100 bytes', async () => {
      const bomb = await zeroBomb(500 * 1024 * 1024);
      expect(bomb.length).toBeLessThan(1024 * 1024);
      const bytes = assembleEnvelope(bomb, 100);
      const rssBefore = process.memoryUsage().rss;
      const report = await inspectEnvelope({ bytes });
      const rssGrowth = process.memoryUsage().rss - rssBefore;
      expect(report.verdict).toBe('SIZE_EXCEEDED');
      expect(report.inflatedBytes).toBeGreaterThan(100);
      expect(report.inflatedBytes).toBeLessThanOrEqual(100 + 64 * 1024);
      // The stream's chunk size follows the budget, so the overshoot is one chunk of at most 101.
      expect(report.inflatedBytes).toBeLessThanOrEqual(2 * 100 + 1);
      expect(report.evidence).toEqual({
        expected: 'at most 100 bytes (originalSize)',
        found: `${report.inflatedBytes} bytes before inflation was stopped`,
      });
      expect(rssGrowth).toBeLessThan(64 * 1024 * 1024);
    }, 120_000);

    it('counts the budget across members', async () => {
      const gz = zlib.gzipSync(good.payload);
      const report = await inspect(withCompressed(Buffer.concat([gz, gz, gz]), good.payload.length * 2));
      expect(report.verdict).toBe('SIZE_EXCEEDED');
      expect(report.members).toBe(3);
    });
  });

  it('SIZE_MISMATCH when the payload is shorter than originalSize', async () => {
    const n = good.payload.length;
    const report = await inspect(withCompressed(zlib.gzipSync(good.payload), n + 7));
    expect(report.verdict).toBe('SIZE_MISMATCH');
    expect(report.evidence).toEqual({ expected: `${n + 7} bytes (originalSize)`, found: String(n) });
    // The payload stage was reached: the bytes and their hash are there to look at.
    expect(report.payload?.equals(good.payload)).toBe(true);
    expect(report.payloadHash).toBe(good.signatureHash);
  });

  describe('BAD_SIGNATURE_NAME', () => {
    it.each([
      'evidence.thcs',
      `injection:${good.signatureHash.toUpperCase()}.thcs`,
      `injection:${good.signatureHash.slice(1)}.thcs`,
      `Injection:${good.signatureHash}.thcs`,
      `injection:${good.signatureHash} (1).thcs`,
    ])('%s', async (name) => {
      const report = await inspect(good.bytes, name);
      expect(report.verdict).toBe('BAD_SIGNATURE_NAME');
      expect(report.signature).toBeNull();
      expect(report.evidence?.expected).toBe('<category>:<64 lowercase hex>.thcs');
    });

    it('not for a name that does not claim to be an envelope', async () => {
      const report = await inspect(good.bytes, 'upload.bin');
      expect(report.verdict).toBe('OK');
      expect(report.signature).toBeNull();
      expect(report.message).toContain('payload hash not checked');
    });

    it('not when a signature is given', async () => {
      const report = await inspect(good.bytes, 'evidence.thcs', { signature: good.signature });
      expect(report.verdict).toBe('OK');
      expect(report.signatureSource).toBe('option');
    });
  });

  describe('PAYLOAD_HASH_MISMATCH', () => {
    it('from the file name', async () => {
      const other = buildEnvelope({ ...payload, path: '/admin' }, { category: 'injection' });
      const report = await inspect(good.bytes, other.fileName);
      expect(report.verdict).toBe('PAYLOAD_HASH_MISMATCH');
      expect(report.evidence).toEqual({ expected: `${other.signatureHash} (file name)`, found: good.signatureHash });
    });

    it('from options.signature, which wins over the name', async () => {
      const signature = `injection:${'0'.repeat(64)}`;
      const report = await inspect(good.bytes, good.fileName, { signature });
      expect(report.verdict).toBe('PAYLOAD_HASH_MISMATCH');
      expect(report.evidence?.expected).toBe(`${'0'.repeat(64)} (given signature)`);
    });

    it('a malformed options.signature is a usage error, not a verdict', async () => {
      await expect(inspect(good.bytes, good.fileName, { signature: 'injection:abc' })).rejects.toMatchObject({ code: 'USAGE' });
    });
  });
});

describe('gzip members', () => {
  it('concatenated members are legal: each is inflated and checked', async () => {
    const text = Buffer.from('{"a":1,"b":[1,2,3],"c":"x"}');
    const compressed = Buffer.concat([zlib.gzipSync(text.subarray(0, 5)), zlib.gzipSync(text.subarray(5, 12)), zlib.gzipSync(text.subarray(12))]);
    const report = await inspect(assembleEnvelope(compressed, text.length), `spam:${sha256(text)}.thcs`);
    expect(report.verdict).toBe('OK');
    expect(report.members).toBe(3);
    expect(report.payload?.equals(text)).toBe(true);
    expect(report.payloadJson).toBe('canonical');
  });

  it('a bad CRC in the second member names that member', async () => {
    const second = edited(zlib.gzipSync(good.payload.subarray(10)), (b) => (b[b.length - 8]! ^= 1));
    const compressed = Buffer.concat([zlib.gzipSync(good.payload.subarray(0, 10)), second]);
    const report = await inspect(withCompressed(compressed));
    expect(report.verdict).toBe('BAD_CRC');
    expect(report.message).toMatch(/^gzip member 2 at file offset /);
  });

  it('header fields zlib never writes (FEXTRA, FNAME, FCOMMENT, FHCRC) are parsed', async () => {
    const member = gzipMember(good.payload, { extra: Buffer.from('AB\x02\x00hi'), name: 'req.json', comment: 'c', headerCrc: true });
    const report = await inspect(withCompressed(member));
    expect(report.verdict).toBe('OK');
  });

  it('an empty member is still a member', async () => {
    const compressed = Buffer.concat([zlib.gzipSync(good.payload), zlib.gzipSync(Buffer.alloc(0))]);
    const report = await inspect(withCompressed(compressed));
    expect(report.verdict).toBe('OK');
    expect(report.members).toBe(2);
  });
});

describe('the payload', () => {
  it.each([
    ['canonical', Buffer.from('{"a":1,"b":2}'), 'canonical'],
    ['unsorted keys', Buffer.from('{"b":2,"a":1}'), 'not-canonical'],
    ['whitespace', Buffer.from('{"a": 1}'), 'not-canonical'],
    ['not JSON', Buffer.from('GET /?q=1 HTTP/1.1\r\n'), 'invalid'],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), 'invalid'],
  ])('%s: payloadJson is information, the verdict stays OK', async (_what, bytes, json) => {
    const built = buildEnvelope(bytes, { category: 'unknown' });
    const report = await inspect(built.bytes, built.fileName);
    expect(report.verdict).toBe('OK');
    expect(report.payloadJson).toBe(json);
  });

  it('is left out above maxPayloadBytes, but still hashed and checked', async () => {
    const report = await inspect(good.bytes, good.fileName, { maxPayloadBytes: 10 });
    expect(report.verdict).toBe('OK');
    expect(report.payload).toBeUndefined();
    expect(report.payloadJson).toBeNull();
    expect(report.payloadHash).toBe(good.signatureHash);
  });

  it('defaults to keeping payloads up to 16 MiB', () => {
    expect(DEFAULT_MAX_PAYLOAD_BYTES).toBe(16 * 1024 * 1024);
  });
});

describe('signature file names', () => {
  it.each([':', '_', '%3A', '%3a'])('accepts "%s" between category and hash', async (sep) => {
    const report = await inspect(good.bytes, `injection${sep}${good.signatureHash}.thcs`);
    expect(report.verdict).toBe('OK');
    expect(report.signature).toEqual({ category: 'injection', hash: good.signatureHash });
  });

  it('takes the name from the path', async () => {
    const file = join(tmp, good.fileName.replace(':', '%3A'));
    writeFileSync(file, good.bytes);
    const report = await inspectEnvelope({ path: file });
    expect(report.verdict).toBe('OK');
    expect(report.file).toBe(file);
    expect(report.name).toBe(good.fileName.replace(':', '%3A'));
  });
});

describe('input errors throw instead of producing a verdict', () => {
  it('a missing file', async () => {
    await expect(inspectEnvelope({ path: join(tmp, 'nope.thcs') })).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });

  it('a directory', async () => {
    await expect(inspectEnvelope({ path: tmp })).rejects.toMatchObject({ code: 'FILE_UNREADABLE' });
  });

  it('neither bytes nor a path', async () => {
    await expect(inspectEnvelope({})).rejects.toMatchObject({ code: 'USAGE' });
  });
});

describe('buildEnvelope', () => {
  it('refuses values Tracehound refuses', () => {
    expect(() => buildEnvelope({ a: undefined })).toThrow(/expected a JSON value, found undefined/);
    expect(() => buildEnvelope({ a: Number.NaN })).toThrow(/finite number/);
    expect(() => buildEnvelope({ a: 1n })).toThrow(/bigint/);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => buildEnvelope(loop)).toThrow(StaxError);
  });

  it('refuses a category that is not a lowercase word', () => {
    expect(() => buildEnvelope({}, { category: '../x' })).toThrow(StaxError);
  });

  it('does not change the payload it is given', () => {
    const input = { b: 1, a: { d: 2, c: 3 } };
    const copy = structuredClone(input);
    buildEnvelope(input);
    expect(input).toEqual(copy);
    expect(Object.keys(input)).toEqual(['b', 'a']);
  });
});
