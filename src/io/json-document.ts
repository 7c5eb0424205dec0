/**
 * Streams a JSON document that is one big object or array without holding it whole: it
 * yields each top-level member of an object, and each element of the arrays named in
 * `arrays` (or of a top-level array), as its own JSON text with its starting line. Memory
 * stays bounded by the largest single entry, so a 1 GB export verifies in flat memory.
 *
 * It only finds boundaries (strings, nesting, commas and colons at the top levels); each
 * piece is then parsed by a real parser, which reports syntax errors inside the piece.
 */
import { TextDecoder } from 'node:util';
import { StaxError } from '../errors.js';

export type DocumentEvent =
  | { kind: 'start'; container: 'object' | 'array' }
  /** The file began with a UTF-8 byte order mark, which was skipped. */
  | { kind: 'bom' }
  | { kind: 'member'; key: string; text: string; line: number }
  | { kind: 'element'; key: string | null; index: number; text: string; line: number }
  | { kind: 'arrayEnd'; key: string | null; count: number };

export interface DocumentOptions {
  file: string;
  /** Top-level keys whose array values are streamed element by element. */
  arrays: ReadonlySet<string>;
  /** The largest member or element accepted, in characters. */
  maxPieceChars: number;
}

const enum S {
  BeforeDoc,
  ObjKeyOrEnd, // after `{` or `,` in the top object
  ObjKey, // inside a top-level key string
  ObjColon,
  ObjValue, // before a member value
  Capture, // inside a captured value
  ObjCommaOrEnd,
  ArrElemOrEnd, // after `[` of a streamed array
  ArrCommaOrEnd,
  AfterDoc,
}

const strictDecoder = (): TextDecoder => new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export async function* readJsonDocument(chunks: AsyncIterable<Buffer>, options: DocumentOptions): AsyncGenerator<DocumentEvent[]> {
  const decoder = strictDecoder();
  const p = new DocumentSplitter(options);
  let offset = 0;
  for await (const chunk of chunks) {
    // The decoder skips a leading BOM; say so, since JSON (RFC 8259) forbids one.
    if (offset === 0 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) yield [{ kind: 'bom' }];
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      throw new StaxError('INPUT_INVALID', `invalid UTF-8 in the ${ordinal(offset)} MiB of the file`, { file: options.file });
    }
    offset += chunk.length;
    const events = p.feed(text);
    if (events.length > 0) yield events;
  }
  try {
    const rest = decoder.decode();
    if (rest.length > 0) {
      const events = p.feed(rest);
      if (events.length > 0) yield events;
    }
  } catch {
    throw new StaxError('INPUT_INVALID', 'invalid UTF-8 at the end of the file', { file: options.file });
  }
  p.end();
}

function ordinal(offset: number): string {
  const mib = Math.floor(offset / (1 << 20)) + 1;
  return mib === 1 ? 'first' : `${mib}th`;
}

export class DocumentSplitter {
  private state = S.BeforeDoc;
  private container: 'object' | 'array' = 'object';
  private line = 1;
  // The piece being captured: finished parts plus the start index in the current text.
  private parts: string[] = [];
  private partsLength = 0;
  private pieceLine = 1;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private key = '';
  private keyParts: string[] = [];
  private arrayKey: string | null = null;
  private index = 0;
  private captureKind: 'member' | 'element' = 'member';
  private readonly seenKeys = new Set<string>();
  private first = true;

  constructor(private readonly options: DocumentOptions) {}

  feed(text: string): DocumentEvent[] {
    const out: DocumentEvent[] = [];
    let i = 0;
    if (this.first && text.length > 0) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) {
        throw this.error('starts with a UTF-8 byte order mark (BOM); JSON documents must not');
      }
    }
    let captureStart = this.state === S.Capture ? 0 : -1;
    const n = text.length;
    while (i < n) {
      const c = text.charCodeAt(i);
      switch (this.state) {
        case S.Capture: {
          // Hot loop: scan the captured value for its end.
          if (this.inString) {
            // Jump to the next quote or backslash.
            let j = i;
            for (; j < n; j++) {
              const d = text.charCodeAt(j);
              if (this.escaped) {
                this.escaped = false;
              } else if (d === 0x5c) {
                this.escaped = true;
              } else if (d === 0x22) {
                break;
              } else if (d === 0x0a) {
                this.line++;
              }
            }
            if (j === n) {
              i = n;
              continue;
            }
            this.inString = false;
            i = j + 1;
            if (this.depth === 0) {
              this.finishCapture(text, captureStart, i, out);
              captureStart = -1;
            }
            continue;
          }
          if (c === 0x22) {
            this.inString = true;
          } else if (c === 0x7b || c === 0x5b) {
            this.depth++;
          } else if (c === 0x7d || c === 0x5d) {
            if (this.depth === 0) {
              // End of the enclosing container: a scalar value ended just before it.
              this.finishCapture(text, captureStart, i, out);
              captureStart = -1;
              continue; // reprocess this character in the new state
            }
            this.depth--;
            if (this.depth === 0) {
              i++;
              this.finishCapture(text, captureStart, i, out);
              captureStart = -1;
              continue;
            }
          } else if (c === 0x2c && this.depth === 0) {
            this.finishCapture(text, captureStart, i, out);
            captureStart = -1;
            continue;
          } else if (c === 0x0a) {
            this.line++;
          }
          i++;
          continue;
        }
        case S.ObjKey: {
          let j = i;
          for (; j < n; j++) {
            const d = text.charCodeAt(j);
            if (this.escaped) this.escaped = false;
            else if (d === 0x5c) this.escaped = true;
            else if (d === 0x22) break;
          }
          this.keyParts.push(text.slice(i, j));
          if (j === n) {
            i = n;
            continue;
          }
          this.key = this.decodeKey(this.keyParts.join(''));
          this.keyParts = [];
          this.state = S.ObjColon;
          i = j + 1;
          continue;
        }
        default:
          break;
      }
      // Structural states: skip whitespace, then act on one character.
      if (c === 0x20 || c === 0x09 || c === 0x0d) {
        i++;
        continue;
      }
      if (c === 0x0a) {
        this.line++;
        i++;
        continue;
      }
      switch (this.state) {
        case S.BeforeDoc:
          if (c === 0x7b) {
            this.container = 'object';
            this.state = S.ObjKeyOrEnd;
          } else if (c === 0x5b) {
            this.container = 'array';
            this.arrayKey = null;
            this.index = 0;
            this.state = S.ArrElemOrEnd;
          } else {
            throw this.error(`expected a JSON object or array, found ${describe(c)}`);
          }
          out.push({ kind: 'start', container: this.container });
          i++;
          break;
        case S.ObjKeyOrEnd:
          if (c === 0x22) {
            this.state = S.ObjKey;
            this.escaped = false;
          } else if (c === 0x7d && this.seenKeys.size === 0) {
            this.state = S.AfterDoc;
          } else {
            throw this.error(`expected a key, found ${describe(c)}`);
          }
          i++;
          break;
        case S.ObjColon:
          if (c !== 0x3a) throw this.error(`expected ':' after key "${this.key}", found ${describe(c)}`);
          this.state = S.ObjValue;
          i++;
          break;
        case S.ObjValue:
          if (c === 0x5b && this.options.arrays.has(this.key)) {
            this.arrayKey = this.key;
            this.index = 0;
            this.state = S.ArrElemOrEnd;
            i++;
          } else {
            this.captureKind = 'member';
            this.beginCapture();
            captureStart = i;
          }
          break;
        case S.ObjCommaOrEnd:
          if (c === 0x2c) this.state = S.ObjKeyOrEnd;
          else if (c === 0x7d) this.state = S.AfterDoc;
          else throw this.error(`expected ',' or '}' after the value of "${this.key}", found ${describe(c)}`);
          i++;
          break;
        case S.ArrElemOrEnd:
          if (c === 0x5d && this.index === 0) {
            this.endArray(out);
            i++;
          } else {
            this.captureKind = 'element';
            this.beginCapture();
            captureStart = i;
          }
          break;
        case S.ArrCommaOrEnd:
          if (c === 0x2c) {
            this.state = S.ArrElemOrEnd;
            i++;
          } else if (c === 0x5d) {
            this.endArray(out);
            i++;
          } else {
            throw this.error(`expected ',' or ']' after element ${this.index - 1}, found ${describe(c)}`);
          }
          break;
        case S.AfterDoc:
          throw this.error(`unexpected ${describe(c)} after the end of the document`);
        default:
          throw this.error('internal splitter state');
      }
    }
    if (this.state === S.Capture && captureStart >= 0) this.keep(text.slice(captureStart));
    return out;
  }

  end(): void {
    if (this.state !== S.AfterDoc) {
      throw this.error(this.state === S.BeforeDoc ? 'the file is empty' : 'the document ends early (truncated?)');
    }
  }

  private beginCapture(): void {
    this.state = S.Capture;
    this.parts = [];
    this.partsLength = 0;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.pieceLine = this.line;
  }

  private keep(part: string): void {
    this.partsLength += part.length;
    if (this.partsLength > this.options.maxPieceChars) {
      const what = this.captureKind === 'element' ? `entry ${this.index}` : `the value of "${this.key}"`;
      throw new StaxError('INPUT_TOO_LARGE', `${what} is larger than ${this.options.maxPieceChars} characters`, { file: this.options.file });
    }
    this.parts.push(part);
  }

  private finishCapture(text: string, start: number, end: number, out: DocumentEvent[]): void {
    this.keep(text.slice(start < 0 ? 0 : start, end));
    // Only JSON's own whitespace (RFC 8259: space, tab, LF, CR) may follow a value;
    // String#trimEnd would also swallow U+00A0, U+2028 and others that no JSON parser accepts.
    const piece = (this.parts.length === 1 ? this.parts[0]! : this.parts.join('')).replace(/[ \t\n\r]+$/, '');
    this.parts = [];
    this.partsLength = 0;
    if (piece.length === 0) throw this.error('missing value');
    if (this.captureKind === 'member') {
      // A repeated member is passed on: each format reports it as DUPLICATE_KEY.
      this.seenKeys.add(this.key);
      out.push({ kind: 'member', key: this.key, text: piece, line: this.pieceLine });
      this.state = S.ObjCommaOrEnd;
    } else {
      out.push({ kind: 'element', key: this.arrayKey, index: this.index++, text: piece, line: this.pieceLine });
      this.state = S.ArrCommaOrEnd;
    }
  }

  private endArray(out: DocumentEvent[]): void {
    out.push({ kind: 'arrayEnd', key: this.arrayKey, count: this.index });
    if (this.container === 'array') {
      this.state = S.AfterDoc;
    } else {
      const key = this.arrayKey ?? '';
      if (this.seenKeys.has(key)) throw this.error(`duplicate top-level key "${key}"`);
      this.seenKeys.add(key);
      this.state = S.ObjCommaOrEnd;
    }
  }

  private decodeKey(raw: string): string {
    try {
      return JSON.parse(`"${raw}"`) as string;
    } catch {
      throw this.error('a top-level key is not a valid JSON string');
    }
  }

  private error(message: string): StaxError {
    return new StaxError('INPUT_INVALID', `not valid JSON: ${message} (line ${this.line})`, { file: this.options.file });
  }
}

function describe(c: number): string {
  if (c >= 0x21 && c <= 0x7e) return `'${String.fromCharCode(c)}'`;
  return `character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}
