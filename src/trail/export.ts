/**
 * `stax trail export`: the single-document JSON form of a chain, for tools that want one
 * JSON value. Entries keep their canonical lines, so the export verifies identically.
 * Nothing is written unless the whole chain verified (or the caller forces it), and the
 * output appears atomically.
 */
import { entryLine, serializeHeader, type ChainEntry, type ChainHeader } from '../chain/entry.js';
import type { StaxReport } from '../formats/stax.js';
import { verifyStaxFile } from '../formats/verify.js';
import { AtomicFile } from '../fs/atomic.js';
import type { Writable } from 'node:stream';

export interface ExportOptions {
  /** Output file, or a stream (stdout) when undefined. */
  out?: string;
  stdout: Writable;
  force?: boolean;
}

export interface ExportResult {
  file: string;
  out: string;
  written: boolean;
  entries: number;
  valid: boolean;
  report: StaxReport;
}

export async function exportTrail(file: string, options: ExportOptions): Promise<ExportResult> {
  const target = options.out === undefined || options.out === '-' ? null : new AtomicFile(options.out, { overwrite: options.force === true });
  const chunks: string[] = [];
  let header: ChainHeader | null = null;
  let count = 0;
  const emit = (text: string): void => {
    if (target !== null) target.write(text);
    else chunks.push(text);
  };
  let report: StaxReport;
  try {
    report = await verifyStaxFile(file, {
      keyed: true,
      visitors: [
        {
          header(h) {
            header = h;
          },
          entry(_i, e: ChainEntry) {
            if (count === 0) emit(`${headerPrefix(header)}"entries":[\n`);
            emit(`${count === 0 ? '' : ',\n'}${entryLine(e)}`);
            count++;
          },
        },
      ],
    });
    if (count === 0) emit(`${headerPrefix(header)}"entries":[`);
    emit('\n]}\n');
  } catch (err) {
    target?.abort();
    throw err;
  }
  const written = report.valid || options.force === true;
  if (target !== null) {
    if (written) target.commit();
    else target.abort();
  } else if (written) {
    // stdout cannot be un-written: only print once the whole chain verified.
    options.stdout.write(chunks.join(''));
  }
  return { file, out: options.out ?? '-', written, entries: count, valid: report.valid, report };
}

function headerPrefix(header: ChainHeader | null): string {
  if (header === null) return '{';
  const text = serializeHeader(header);
  return text.length > 2 ? `${text.slice(0, -1)},` : '{';
}
