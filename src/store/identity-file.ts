// The device identity on disk: `identity.json` in the home directory, mode 0600.
// Holds the Ed25519 signing key and the X25519 agreement key. Never logged.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agreementKeyPair, signingKeyPair, type KeyPair } from '../crypto/sodium.ts';
import { TrellisError } from '../core/errors.ts';
import { MAX_NAME_CHARS } from '../core/limits.ts';

export interface Identity {
  name: string;
  signing: KeyPair;
  agreement: KeyPair;
}

export const IDENTITY_FILE = 'identity.json';

export function identityPath(home: string): string {
  return join(home, IDENTITY_FILE);
}

export function hasIdentity(home: string): boolean {
  return existsSync(identityPath(home));
}

export function validateName(name: string): string {
  const n = name.trim();
  if (n.length === 0) throw new TrellisError('invalid', 'the name must not be empty');
  if (n.length > MAX_NAME_CHARS) throw new TrellisError('invalid', `the name is longer than ${MAX_NAME_CHARS} characters`);
  if (/[\u0000-\u001f\u007f]/.test(n)) throw new TrellisError('invalid', 'the name must not contain control characters');
  return n;
}

/** Creates the home directory (0700) and a fresh identity; refuses to overwrite one. */
export function createIdentity(home: string, name: string): Identity {
  const clean = validateName(name);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const path = identityPath(home);
  if (existsSync(path)) throw new TrellisError('conflict', `an identity already exists in ${home}`);
  const id: Identity = { name: clean, signing: signingKeyPair(), agreement: agreementKeyPair() };
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  const json = JSON.stringify({
    version: 1,
    name: id.name,
    signing: { publicKey: hex(id.signing.publicKey), secretKey: hex(id.signing.secretKey) },
    agreement: { publicKey: hex(id.agreement.publicKey), secretKey: hex(id.agreement.secretKey) },
  }, null, 2);
  // 'wx' fails if another process created it meanwhile; mode applies at creation.
  writeFileSync(path, json + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return id;
}

export function loadIdentity(home: string): Identity {
  const path = identityPath(home);
  if (!existsSync(path)) throw new TrellisError('not-found', `no identity in ${home}: run \`trellis init --name NAME\` first`);
  let raw: unknown;
  try { raw = JSON.parse(readFileSync(path, 'utf8')); } catch { throw new TrellisError('invalid', `${path} is not valid JSON`); }
  const r = raw as { name?: unknown; signing?: { publicKey?: unknown; secretKey?: unknown }; agreement?: { publicKey?: unknown; secretKey?: unknown } };
  const bytes = (v: unknown, n: number): Uint8Array => {
    if (typeof v !== 'string' || v.length !== n * 2 || !/^[0-9a-f]+$/.test(v)) throw new TrellisError('invalid', `${path} is damaged`);
    return Buffer.from(v, 'hex');
  };
  if (typeof r.name !== 'string') throw new TrellisError('invalid', `${path} is damaged`);
  return {
    name: r.name,
    signing: { publicKey: bytes(r.signing?.publicKey, 32), secretKey: bytes(r.signing?.secretKey, 64) },
    agreement: { publicKey: bytes(r.agreement?.publicKey, 32), secretKey: bytes(r.agreement?.secretKey, 32) },
  };
}
