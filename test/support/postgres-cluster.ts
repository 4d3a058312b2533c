/**
 * A throwaway PostgreSQL cluster, for the tests (test/support/postgres.ts) and the bench (bench/run.ts):
 * `initdb` in a new temporary folder, served on a Unix socket in that folder only (no TCP), stopped and
 * deleted by stop(). No vitest here, so the bench can import it.
 *
 * initdb and postgres refuse to run as root: as root (CI, this machine) they run as the `postgres` user,
 * who is given the temporary folder.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** How clients reach the cluster. */
export interface PostgresCluster {
  /** The folder holding the socket: node-postgres's `host`. */
  host: string;
  port: number;
  user: string;
}

export interface ClusterOptions {
  /**
   * fsync and synchronous_commit on, as a production server runs (the bench). Default off: the tests'
   * cluster, where durability is SQLite's crash tests' subject and speed matters on 2 cores.
   */
  durable?: boolean;
  /** Where the temporary folder goes (default: the system temp folder). */
  parentDir?: string;
}

export const urlOf = (cluster: PostgresCluster, database: string) =>
  `postgresql://${encodeURIComponent(cluster.user)}@/${database}?host=${encodeURIComponent(cluster.host)}&port=${cluster.port}`;

/** Runs one statement as the cluster's superuser in its `postgres` database. */
export async function admin(cluster: PostgresCluster, sql: string): Promise<void> {
  const client = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.user, database: 'postgres' });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface RunningCluster {
  cluster: PostgresCluster;
  stop(): Promise<void>;
}

const PORT = 5432; // only names the socket file (.s.PGSQL.5432) in our own folder: no TCP is opened

/** initdb + postgres in a new temporary folder; resolves once the server accepts connections. */
export async function startCluster(options: ClusterOptions = {}): Promise<RunningCluster> {
  const bin = postgresBinaries();
  const owner = clusterOwner();
  const root = mkdtempSync(join(options.parentDir ?? tmpdir(), 'hdx-pg-'));
  const data = join(root, 'data');
  if (owner.uid !== undefined) chownSync(root, owner.uid, owner.gid!);
  const as = { uid: owner.uid, gid: owner.gid };
  try {
    await run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], as);
    const server = spawn(
      join(bin, 'postgres'),
      [
        '-D', data, '-k', root, '-p', String(PORT),
        '-c', 'listen_addresses=',
        ...(options.durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
        '-c', 'max_connections=300', '-c', 'shared_buffers=64MB',
      ],
      { ...as, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    await ready(server);
    const cluster: PostgresCluster = { host: root, port: PORT, user: 'postgres' };
    return {
      cluster,
      stop: async () => {
        await stopServer(server);
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`PostgreSQL could not be started: ${(error as Error).message}`, { cause: error });
  }
}

/** The folder with initdb and postgres: HDX_POSTGRES_BIN, on PATH, else Debian's /usr/lib/postgresql/<newest>/bin. */
export function postgresBinaries(): string {
  const named = process.env.HDX_POSTGRES_BIN;
  if (named !== undefined) {
    if (existsSync(join(named, 'initdb')) && existsSync(join(named, 'postgres'))) return named;
    throw new Error(`HDX_POSTGRES_BIN=${named} holds no initdb and postgres`);
  }
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return dir;
  }
  const debian = '/usr/lib/postgresql';
  const versions = existsSync(debian)
    ? readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) {
    const dir = join(debian, v, 'bin');
    if (existsSync(join(dir, 'initdb'))) return dir;
  }
  throw new Error('initdb and postgres are not installed (Debian: apt-get install postgresql; .ci/run does this)');
}

/** As root, the `postgres` system user (initdb refuses root); otherwise whoever runs the tests. */
function clusterOwner(): { uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return {};
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('running as root, and there is no `postgres` user to run the cluster as (Debian\'s postgresql package makes it)');
  }
}

function run(cmd: string, args: string[], as: { uid?: number; gid?: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...as, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code ?? signal}: ${stderr.trim().slice(-2000)}`)),
    );
  });
}

/** Resolves when the server logs that it accepts connections; rejects if it exits first. */
function ready(server: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const onData = (chunk: Buffer) => {
      stderr += chunk;
      if (stderr.includes('database system is ready to accept connections')) {
        server.off('exit', onExit);
        server.stderr!.off('data', onData);
        server.stderr!.resume(); // keep draining its log so the server never blocks on a full pipe
        resolve();
      }
    };
    const onExit = (code: number | null, signal: string | null) =>
      reject(new Error(`postgres exited ${code ?? signal}: ${stderr.trim().slice(-2000)}`));
    server.stderr!.on('data', onData);
    server.once('exit', onExit);
    server.once('error', reject);
  });
}

/** Fast shutdown (SIGINT: disconnect clients, no checkpoint wait beyond the minimal one). */
function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    server.once('exit', () => resolve());
    server.kill('SIGINT');
  });
}
