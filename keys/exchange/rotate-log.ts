/**
 * `rotateLogKey`: a new Ed25519 key for the audit log's checkpoints. The old private key is kept beside it as
 * `log.key.<key id>.old`; the new public key is written as `log.pub` into every party folder of this
 * exchange that holds one (an enrolled party elsewhere gets it from the operator by another channel). The
 * gateway signs with the new key from its next start. Checkpoints signed before stay verifiable with the
 * old verifier key (returned), and an officer's saved checkpoint stays usable: consistency proofs need
 * only its size and root, not its signature.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, renameSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidExchange } from '../errors.js';
import { loadRegistry } from '../registry.js';
import { formatVerifierKey } from '../transparency/note-keys.js';
import { FILES, PRIVATE_FILE, PUBLIC_FILE, paths, readText, replaceFile, withRegistryLock, writeNewFile } from './layout.js';

export interface RotateLogKeyResult {
  /** C2SP verifier keys (`<origin>+<key id>+<key>`). */
  verifierKey: string;
  previousVerifierKey: string;
  /** Party folders whose `log.pub` now holds the new key. */
  partiesUpdated: string[];
}

export async function rotateLogKey(dir: string): Promise<RotateLogKeyResult> {
  if (typeof dir !== 'string' || dir.length === 0) throw new TypeError('dir must be a path');
  const root = resolve(dir);
  return withRegistryLock(root, () => {
    const registry = loadRegistry(paths.registry(root));
    const origin = `${registry.trustDomain}/audit/v1`;
    const gatewayDir = paths.gatewayDir(root);
    const file = join(gatewayDir, FILES.logKey);
    let previous;
    try {
      previous = createPublicKey(createPrivateKey(readText(file, 'gateway/log.key')));
      if (previous.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
    } catch (cause) {
      throw new InvalidExchange('gateway/log.key is not an Ed25519 private key', { cause });
    }
    const previousVerifierKey = formatVerifierKey(origin, previous);
    // `<origin>+<key id>+<key>`: the key id names the kept file.
    const keyId = previousVerifierKey.split('+')[1]!;
    const kept = join(gatewayDir, `${FILES.logKey}.${keyId}.old`);
    if (existsSync(kept)) throw new InvalidExchange('an old log key file with that key id already exists');

    const next = generateKeyPairSync('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const staged = `${file}.${process.pid}.new`;
    writeNewFile(staged, next.privateKey, PRIVATE_FILE);
    try {
      renameSync(file, kept);
      renameSync(staged, file);
    } catch (error) {
      if (existsSync(staged)) unlinkSync(staged);
      if (!existsSync(file) && existsSync(kept)) renameSync(kept, file);
      throw error;
    }
    const partiesUpdated: string[] = [];
    for (const party of registry.parties) {
      if (party.role === 'gateway') continue;
      const pub = join(paths.partyDir(root, party.id), FILES.logPub);
      if (!existsSync(pub)) continue;
      replaceFile(pub, next.publicKey, PUBLIC_FILE);
      partiesUpdated.push(party.id);
    }
    return { verifierKey: formatVerifierKey(origin, createPublicKey(next.publicKey)), previousVerifierKey, partiesUpdated };
  });
}
