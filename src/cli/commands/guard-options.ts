/** The allowlist options shared by every guard command (approve, check, hook, npm). */
import type { OptionSpec, RunContext } from '../command.js';
import type { CheckOptions } from '../../guard/check.js';

export const VERIFY_OPTIONS: OptionSpec[] = [
  { flags: '--allowlist <file>', description: 'the allowlist (default: .stax/allowlist.json)' },
  { flags: '--trusted-keys <file>', description: 'Ed25519 verifier keys; when given (or .stax/trusted-keys.txt exists) a signature by one of them is required' },
  { flags: '--hmac-key-file <file>', description: 'the HMAC key, mode 600 (default: $STAX_HMAC_KEY)' },
  { flags: '--guard-trail <file>', description: 'the guard trail that records every change and decision (default: .stax/guard.jsonl)' },
  { flags: '--no-guard-trail', description: 'neither check nor write the guard trail: no rollback detection, nothing recorded' },
];

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function verifyOptions(options: Record<string, unknown>, ctx: RunContext): Pick<CheckOptions, 'cwd' | 'env' | 'allowlist' | 'trustedKeys' | 'hmacKeyFile' | 'guardTrail'> {
  return {
    cwd: ctx.io.cwd,
    env: ctx.io.env,
    allowlist: str(options.allowlist),
    trustedKeys: str(options.trustedKeys),
    hmacKeyFile: str(options.hmacKeyFile),
    guardTrail: options.guardTrail === false ? null : str(options.guardTrail),
  };
}
