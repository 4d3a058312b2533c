/**
 * Key order is the sender's choice: a resource whose own `meta` comes after other elements must get its
 * security labels merged into that `meta` (it used to recurse forever in the tree path's writer).
 */
import { expect, it } from 'vitest';
import { createDeidentifier } from '../../gateway/deid/index.js';
import { createGenerator } from '../../synthetic/index.js';

it('merges the labels into a meta that comes late, keeping its content', () => {
  const record = createGenerator(3).dischargeRecord({ hospitalId: 'nanshan-people' });
  for (const entry of record.bundle.entry) {
    if (entry.resource.resourceType !== 'Condition') continue;
    const { resourceType, id, ...rest } = entry.resource;
    entry.resource = { resourceType, id, ...rest, meta: { versionId: '7' } };
  }
  const { bundle } = createDeidentifier().deidentify(record.bundle, {
    purpose: 'CLAIM',
    profile: 'safe-harbor',
    categories: ['encounter', 'diagnosis', 'charges'],
    pseudonym: 'abcdef0123456789abcdef0123456789',
    policyNumber: 'P-1',
    keys: { cryptoHashKey: 'k', dateShiftKey: 'k', encryptKey: Buffer.alloc(32).toString('base64') },
  });
  const conditions = (bundle.entry as Array<{ resource: { resourceType: string; meta?: { versionId?: string; security?: unknown[] } } }>)
    .map((e) => e.resource)
    .filter((r) => r.resourceType === 'Condition');
  expect(conditions.length).toBeGreaterThan(0);
  for (const c of conditions) {
    expect(c.meta?.versionId).toBe('7');
    expect(c.meta?.security?.length).toBeGreaterThan(0);
  }
});
