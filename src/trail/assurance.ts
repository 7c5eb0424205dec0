/**
 * What `stax verify` checks on a stax chain beyond the hash chain, and what it then still
 * cannot detect. Trusted keys make a rewrite detectable (it needs the signers' keys);
 * checkpoints make a cut-off tail or rewritten history detectable up to their size.
 */
import type { ReportBuilder } from '../chain/report.js';
import type { EntryVisitor } from '../formats/stax.js';
import type { TrustedKeys } from '../keys/store.js';
import { checkpointVisitor, type SignedCheckpoint } from './checkpoint.js';
import { signatureVisitor } from './sign.js';

export function staxAssurance(trusted: TrustedKeys | null, checkpoints: SignedCheckpoint[]): { visitors: EntryVisitor[]; keyed: true } {
  const visitors: EntryVisitor[] = [];
  if (trusted !== null) visitors.push(signatureVisitor(trusted));
  if (checkpoints.length > 0) visitors.push(checkpointVisitor(checkpoints));
  visitors.push({
    entry() {},
    finish(report: ReportBuilder) {
      if (checkpoints.length === 0) {
        report.limit('truncation', 'cannot detect entries cut off the end: give a signed checkpoint (--checkpoint) to catch it');
        report.limit('unsigned-fields', 'the header (kind, origin, created) is covered by no entry hash; a signed checkpoint binds the origin');
      } else {
        report.limit('unsigned-fields', 'the header fields kind and created are covered by no hash (the origin is bound by the checkpoint)');
        const newest = Math.max(...checkpoints.map((c) => c.size));
        report.limit('truncation', `cannot detect entries appended after the newest checkpoint (size ${newest}) being cut off again`);
        report.note(`checked against ${checkpoints.length} signed checkpoint${checkpoints.length === 1 ? '' : 's'} (newest: ${newest} entries)`);
      }
      if (trusted === null) {
        report.limit(
          'rewrite',
          checkpoints.length === 0
            ? 'cannot detect a complete rewrite: anyone can recompute every hash; give --trusted-keys for signed entries, or a checkpoint'
            : 'entries after the newest checkpoint can be rewritten undetected without --trusted-keys',
        );
      } else {
        report.note(`every entry must be signed by a key in ${trusted.file} named after its actor`);
      }
    },
  });
  return { visitors, keyed: true };
}
