/**
 * Entry signatures. The signature covers a domain-separated message naming the actor and
 * the entry hash (which already covers every other field), so a signature made for one
 * actor or one chain format can never be replayed as another. A verifier then requires the
 * signing key's name to be the entry's actor: a key speaks only for its owner.
 */
import type { ChainEntry, EntryBody, EntrySignature } from '../chain/entry.js';
import type { EntryVisitor } from '../formats/stax.js';
import type { ReportBuilder } from '../chain/report.js';
import { sign, verify } from '../crypto/ed25519.js';
import { fromBase64, toBase64 } from '../crypto/encoding.js';
import type { NoteSigner } from '../crypto/note.js';
import { StaxError } from '../errors.js';
import { keyLabel, type TrustedKeys } from '../keys/store.js';

const DOMAIN = 'stax-chain/v1 entry signature';

export function signatureMessage(actor: string, hash: string): Uint8Array {
  return Buffer.from(`${DOMAIN}\n${actor}\n${hash}\n`, 'utf8');
}

/** A signer for ChainWriter: refuses to sign for an actor other than the key's name. */
export function entrySigner(signer: NoteSigner): (hash: string, body: EntryBody) => EntrySignature {
  return (hash, body) => {
    if (body.actor !== signer.name) {
      throw new StaxError('USAGE', `the key "${signer.name}" cannot sign for actor "${body.actor}": a key signs only for the actor it is named after`);
    }
    return { key: keyLabel(signer), sig: toBase64(sign(signatureMessage(body.actor, hash), signer.secretKey)) };
  };
}

/** Checks every entry's signature against the trusted keys, while the chain is verified. */
export function signatureVisitor(trusted: TrustedKeys): EntryVisitor {
  return {
    entry(index: number, e: ChainEntry, computedHash: string, report: ReportBuilder, line?: number) {
      if (e.sig === undefined) {
        report.problem(index, 'UNSIGNED', `entry ${index} (actor ${JSON.stringify(e.actor)}) carries no signature`, line);
        return;
      }
      const key = trusted.byId.get(e.sig.key);
      if (key === undefined) {
        report.problem(index, 'UNKNOWN_KEY', `entry ${index} is signed by ${JSON.stringify(e.sig.key)}, which is not in ${trusted.file}`, line);
        return;
      }
      if (key.name !== e.actor) {
        report.problem(index, 'UNKNOWN_KEY', `entry ${index} is signed by ${JSON.stringify(e.sig.key)}, which is not trusted for actor ${JSON.stringify(e.actor)}`, line);
        return;
      }
      const sig = fromBase64(e.sig.sig);
      // The signature is over the hash the content has: a tampered entry fails here too.
      if (sig === undefined || !verify(signatureMessage(e.actor, computedHash), sig, key.publicKey)) {
        report.problem(index, 'BAD_SIGNATURE', `entry ${index}: the signature by ${e.sig.key} does not verify`, line);
      }
    },
  };
}
