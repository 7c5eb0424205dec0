import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CheckpointError, formatCheckpoint, parseCheckpoint } from '../../src/crypto/checkpoint.js';
import { emptyRoot } from '../../src/crypto/merkle.js';
import { parseNote } from '../../src/crypto/note.js';
import { readVector } from './vectors.js';

const example = readVector<{ checkpointShape: { note: string } }>('signed-note/examples.json').checkpointShape;
const root = createHash('sha256').update('root').digest();
const rootB64 = root.toString('base64');

function errorOf(fn: () => unknown): CheckpointError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CheckpointError) return err;
    throw err;
  }
  throw new Error('expected a CheckpointError');
}

describe('the C2SP example (signed-note/examples.json checkpointShape)', () => {
  it('parses the text of the example note', () => {
    const cp = parseCheckpoint(parseNote(example.note).text);
    expect(cp.origin).toBe('example.com/behind-the-sofa');
    expect(cp.size).toBe(20852163);
    expect(Buffer.from(cp.root).toString('base64')).toBe('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=');
    expect(cp.extensions).toEqual([]);
    expect(formatCheckpoint(cp)).toBe(parseNote(example.note).text);
  });

  it('refuses the whole signed note, pointing at the blank line', () => {
    expect(errorOf(() => parseCheckpoint(example.note))).toMatchObject({ code: 'EXTENSION_INVALID', line: 4 });
  });
});

describe('formatCheckpoint and parseCheckpoint', () => {
  it('round-trip, with extensions', () => {
    const text = formatCheckpoint({ origin: 'stax.example/trail', size: 7, root, extensions: ['ext one', 'two'] });
    expect(text).toBe(`stax.example/trail\n7\n${rootB64}\next one\ntwo\n`);
    const cp = parseCheckpoint(text);
    expect(cp).toMatchObject({ origin: 'stax.example/trail', size: 7, extensions: ['ext one', 'two'] });
    expect(Buffer.from(cp.root).equals(root)).toBe(true);
  });

  it('size 0 with the empty-tree root', () => {
    const text = formatCheckpoint({ origin: 'o', size: 0, root: emptyRoot() });
    expect(parseCheckpoint(text).size).toBe(0);
  });

  it('accepts the largest safe size', () => {
    expect(parseCheckpoint(`o\n${Number.MAX_SAFE_INTEGER}\n${rootB64}\n`).size).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    ['no final newline', `o\n1\n${rootB64}`, 'CHECKPOINT_MALFORMED', undefined],
    ['two lines', 'o\n1\n', 'CHECKPOINT_MALFORMED', undefined],
    ['CRLF', `o\r\n1\r\n${rootB64}\r\n`, 'CHECKPOINT_MALFORMED', 1],
    ['empty origin', `\n1\n${rootB64}\n`, 'ORIGIN_INVALID', 1],
    ['leading zero', `o\n01\n${rootB64}\n`, 'SIZE_INVALID', 2],
    ['plus sign', `o\n+1\n${rootB64}\n`, 'SIZE_INVALID', 2],
    ['minus sign', `o\n-1\n${rootB64}\n`, 'SIZE_INVALID', 2],
    ['hex size', `o\n0x10\n${rootB64}\n`, 'SIZE_INVALID', 2],
    ['exponent', `o\n1e3\n${rootB64}\n`, 'SIZE_INVALID', 2],
    ['space after size', `o\n1 \n${rootB64}\n`, 'SIZE_INVALID', 2],
    ['empty size', `o\n\n${rootB64}\n`, 'SIZE_INVALID', 2],
    ['size above 2^53 - 1', `o\n9007199254740992\n${rootB64}\n`, 'SIZE_INVALID', 2],
    ['root not base64', 'o\n1\nnot base64!\n', 'ROOT_INVALID', 3],
    ['root unpadded', `o\n1\n${rootB64.replace(/=$/, '')}\n`, 'ROOT_INVALID', 3],
    ['root in hex', `o\n1\n${root.toString('hex')}\n`, 'ROOT_INVALID', 3],
    ['root of 31 bytes', `o\n1\n${root.subarray(1).toString('base64')}\n`, 'ROOT_INVALID', 3],
    ['size 0 with another root', `o\n0\n${rootB64}\n`, 'ROOT_INVALID', 3],
    ['empty extension line', `o\n1\n${rootB64}\next\n\n`, 'EXTENSION_INVALID', 5],
  ])('parse refuses %s', (_label, text, code, line) => {
    const err = errorOf(() => parseCheckpoint(text));
    expect(err.code).toBe(code);
    expect(err.line).toBe(line);
  });

  it('root errors show what was found', () => {
    expect(errorOf(() => parseCheckpoint(`o\n1\n${root.subarray(1).toString('base64')}\n`))).toMatchObject({
      expected: '32',
      found: '31',
    });
  });

  it.each([
    ['empty origin', { origin: '', size: 1, root }, 'ORIGIN_INVALID'],
    ['multi-line origin', { origin: 'a\nb', size: 1, root }, 'ORIGIN_INVALID'],
    ['negative size', { origin: 'o', size: -1, root }, 'SIZE_INVALID'],
    ['fractional size', { origin: 'o', size: 1.5, root }, 'SIZE_INVALID'],
    ['unsafe size', { origin: 'o', size: 2 ** 53, root }, 'SIZE_INVALID'],
    ['short root', { origin: 'o', size: 1, root: root.subarray(1) }, 'ROOT_INVALID'],
    ['size 0 with another root', { origin: 'o', size: 0, root }, 'ROOT_INVALID'],
    ['empty extension', { origin: 'o', size: 1, root, extensions: [''] }, 'EXTENSION_INVALID'],
    ['multi-line extension', { origin: 'o', size: 1, root, extensions: ['a\n'] }, 'EXTENSION_INVALID'],
  ])('format refuses %s', (_label, input, code) => {
    expect(errorOf(() => formatCheckpoint(input)).code).toBe(code);
  });
});
