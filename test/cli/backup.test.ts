/**
 * `hdx gateway backup` while the gateway serves and takes submissions, `hdx gateway restore` into a new
 * database folder, and the regulator's `hdx audit verify` of the restored gateway against the checkpoint it
 * saved before the backup. A restore over a serving gateway, and of an altered backup, are refused.
 */
import Database from 'better-sqlite3';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHospitalSession } from '../../hospital-adapter/session.js';
import { runHdx, startHdx, type HdxProcess } from '../support/cli.js';
import { createTestExchange, type TestExchange } from '../support/harness.js';
import { consentAndSubmit, recordMaker } from '../settlement/support.js';

let ex: TestExchange;
const running: HdxProcess[] = [];
const record = recordMaker(20261203);

async function serve(extra: string[] = []): Promise<{ gw: HdxProcess; address: string }> {
  const gw = startHdx(['gateway', 'serve', '--data', ex.summary.gateway.dir, '--listen', '127.0.0.1:0', '--seal-workers', '0', ...extra]);
  running.push(gw);
  return { gw, address: `localhost:${(await gw.waitFor(/listening on port (\d+)/))[1]}` };
}

beforeAll(async () => {
  ex = await createTestExchange();
});

afterAll(async () => {
  for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(running.map((p) => p.exited));
  ex?.cleanup();
});

describe('hdx gateway backup and restore', () => {
  it('backs up while serving, restores, and the restored log verifies against the checkpoint saved before', async () => {
    const { gw, address } = await serve();
    const hospital = await openHospitalSession(ex.partyDir('nanshan-people'), address);
    for (let i = 0; i < 3; i++) await consentAndSubmit(hospital, record('nanshan-people'), 'taikang-online');
    const regulator = ['--identity', ex.partyDir('szdex')];
    const before = await runHdx(['audit', 'verify', ...regulator, '--gateway', address, '--json']);
    expect(before.code).toBe(0);
    const saved = JSON.parse(before.stdout) as { treeSize: number };

    // Submissions go on while the backup runs.
    const backupFile = join(ex.root, 'gateway-backup.db');
    let submitting = true;
    const traffic = (async () => {
      let n = 0;
      while (submitting || n === 0) {
        await consentAndSubmit(hospital, record('nanshan-people'), 'taikang-online');
        n += 1;
      }
      return n;
    })();
    const backup = await runHdx(['gateway', 'backup', backupFile, '--data', ex.summary.gateway.dir]);
    submitting = false;
    expect(await traffic).toBeGreaterThan(0);
    hospital.close();
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    const backedUp = Number(backup.stdout.match(/: (\d+) audit events; the signed checkpoint at (\d+) verified/)![2]);
    expect(backedUp).toBeGreaterThanOrEqual(saved.treeSize);
    expect(existsSync(`${backupFile}-wal`)).toBe(false);

    const refused = await runHdx(['gateway', 'restore', backupFile, '--data', ex.summary.gateway.dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`is in use by another process (hdx gateway serve, pid ${gw.child.pid}`);
    gw.child.kill('SIGTERM');
    expect((await gw.exited).code).toBe(0);

    const restoredDir = join(ex.root, 'restored');
    const restore = await runHdx(['gateway', 'restore', backupFile, '--data', ex.summary.gateway.dir, '--db-dir', restoredDir]);
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(new RegExp(`^restored ${backupFile}: \\d+ audit events; the signed checkpoint at ${backedUp} verified`));

    const again = await serve(['--db-dir', restoredDir]);
    const after = await runHdx(['audit', 'verify', ...regulator, '--gateway', again.address, '--json']);
    expect(after.stderr).toBe('');
    expect(after.code).toBe(0);
    expect((JSON.parse(after.stdout) as { treeSize: number }).treeSize).toBeGreaterThanOrEqual(backedUp);
    again.gw.child.kill('SIGTERM');
    expect((await again.gw.exited).code).toBe(0);
  });

  it('refuses to restore a backup whose audit events were altered, naming the event', async () => {
    const { gw } = await serve();
    const backupFile = join(ex.root, 'to-alter.db');
    expect((await runHdx(['gateway', 'backup', backupFile, '--data', ex.summary.gateway.dir])).code).toBe(0);
    gw.child.kill('SIGTERM');
    await gw.exited;
    const altered = join(ex.root, 'altered.db');
    copyFileSync(backupFile, altered);
    const db = new Database(altered);
    db.exec('DROP TRIGGER audit_events_no_update');
    db.prepare("UPDATE audit_events SET event_json = replace(event_json, 'nanshan-people', 'nanshan-peoplf') WHERE seq = 1").run();
    db.close();
    const restore = await runHdx(['gateway', 'restore', altered, '--data', ex.summary.gateway.dir, '--db-dir', join(ex.root, 'never')]);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toBe(`hdx: ${altered}: audit event 1 does not match its leaf hash\n`);
    expect(existsSync(join(ex.root, 'never', 'gateway.db'))).toBe(false);
  });
});
