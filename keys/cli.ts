/**
 * `hdx keys …`: make and maintain a development exchange from the command line.
 *
 *   hdx keys init <dir>      CA, gateway, default (or given) parties, registry
 *   hdx keys issue <dir>     add a party
 *   hdx keys rotate <dir>    new signing or encryption key for a party, old one kept for a grace period
 *   hdx keys list <dir>      parties, roles, key ids and validity
 *   hdx keys request <dir>   (party) own TLS key + CSR and JOSE keys; `--renew` for a new certificate
 *   hdx keys sign-request    (operator) certify a request, list the party's public JWKs
 *   hdx keys accept <dir>    (party) install the certificate the operator sent back
 *
 * Every command takes `--json`. Errors print one line on stderr and exit with status 1.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { KeysError } from './errors.js';
import { acceptEnrolment, initExchange, issueParty, requestEnrolment, requestRenewal, rotateLogKey, rotatePartyKey, signEnrolmentRequest, type PartySpec } from './exchange.js';
import { paths } from './exchange/layout.js';
import { ROLES } from './identity.js';
import { ENCRYPTION_ALGS, SIGNING_ALGS, type EncryptionAlg, type EncryptionCurve, type SigningAlg } from './jose-keys.js';
import { loadRegistry, type Registry } from './registry.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export function registerKeysCommands(program: Command): Command {
  const keys = program
    .command('keys')
    .description('the exchange PKI, party registry and JOSE keys (development exchange on disk)');

  keys
    .command('init')
    .description('create a new exchange: CA, gateway, parties, registry (refuses to overwrite)')
    .argument('<dir>', 'folder to create (must not exist, or be empty)')
    .option('--trust-domain <domain>', 'SPIFFE trust domain', 'hdx.local')
    .option('--hospital <id=name...>', 'hospitals (replaces the default hospitals)')
    .option('--insurer <id=name...>', 'insurers (replaces the default insurers)')
    .option('--regulator <id=name...>', 'regulators (replaces the default regulator)')
    .option('--gateway-address <host[:port],…>', 'address the parties dial (port 7443 if omitted), or several replicas’ comma-separated; every host is put in the gateway certificate', 'localhost:7443')
    .addOption(new Option('--sig-alg <alg>', 'signing key algorithm').choices(SIGNING_ALGS).default('ES256'))
    .addOption(new Option('--enc-alg <alg>', "insurers' encryption key algorithm").choices(ENCRYPTION_ALGS).default('ECDH-ES+A256KW'))
    .addOption(new Option('--enc-crv <crv>', 'curve for ECDH-ES+A256KW (default P-256)').choices(['P-256', 'X25519']))
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, o: InitCliOptions, cmd: Command) => {
      await run(cmd, o.json, async () => {
        const summary = await initExchange(dir, {
          trustDomain: o.trustDomain,
          ...(o.hospital && { hospitals: parseSpecs(o.hospital) }),
          ...(o.insurer && { insurers: parseSpecs(o.insurer) }),
          ...(o.regulator && { regulators: parseSpecs(o.regulator) }),
          gatewayAddress: o.gatewayAddress,
          signingAlg: o.sigAlg,
          encryptionAlg: o.encAlg,
          ...(o.encCrv && { encryptionCurve: o.encCrv }),
        });
        const text = [
          `created exchange ${summary.dir} (trust domain ${summary.trustDomain})`,
          `  gateway    ${summary.gateway.uri}  listen ${summary.gateway.listen}`,
          ...summary.parties.map((p) => `  ${p.role.padEnd(10)} ${p.uri}  ${p.name}`),
        ].join('\n');
        return { json: summary, text };
      });
    });

  keys
    .command('issue')
    .description('add a party to an existing exchange: certificate, keys, registry entry')
    .argument('<dir>', 'the exchange folder')
    .addOption(new Option('--role <role>', 'the party role').choices(ROLES.filter((r) => r !== 'gateway')).makeOptionMandatory())
    .requiredOption('--id <id>', 'party id: [a-z0-9][a-z0-9-]{1,62}')
    .requiredOption('--name <name>', 'display name')
    .addOption(new Option('--sig-alg <alg>', 'signing key algorithm').choices(SIGNING_ALGS).default('ES256'))
    .addOption(new Option('--enc-alg <alg>', 'encryption key algorithm (insurers)').choices(ENCRYPTION_ALGS).default('ECDH-ES+A256KW'))
    .addOption(new Option('--enc-crv <crv>', 'curve for ECDH-ES+A256KW (default P-256)').choices(['P-256', 'X25519']))
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, o: IssueCliOptions, cmd: Command) => {
      await run(cmd, o.json, async () => {
        const party = await issueParty(
          dir,
          { id: o.id, role: o.role, name: o.name },
          { signingAlg: o.sigAlg, encryptionAlg: o.encAlg, ...(o.encCrv && { encryptionCurve: o.encCrv }) },
        );
        return { json: party, text: `issued ${party.role} ${party.uri} in ${party.dir}` };
      });
    });

  keys
    .command('rotate')
    .description("rotate a party's signing or encryption key (older keys stay valid for a grace period), or the gateway's audit-log key (--use log)")
    .argument('<dir>', 'the exchange folder')
    .requiredOption('--party <id>', 'party id ("gateway" for the gateway)')
    .addOption(new Option('--use <use>', 'which key').choices(['sig', 'enc', 'log']).makeOptionMandatory())
    .option('--grace-days <days>', 'how long older keys stay valid', parseDays, 7)
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, o: RotateCliOptions, cmd: Command) => {
      await run(cmd, o.json, async () => {
        if (o.use === 'log') {
          if (o.party !== 'gateway') throw new TypeError('only the gateway has a log key (--party gateway)');
          const r = await rotateLogKey(dir);
          return {
            json: r,
            text: `rotated the audit-log key: new verifier key ${r.verifierKey}; log.pub replaced in ${r.partiesUpdated.join(', ') || 'no party folder'}; restart the gateway and give the new log.pub to every officer`,
          };
        }
        const r = await rotatePartyKey(dir, o.party, o.use, { gracePeriodMs: Math.round(o.graceDays * DAY_MS) });
        return {
          json: r,
          text: `rotated ${r.use} key of ${r.partyId}: new kid ${r.kid}; previous kid ${r.previousKid} valid until ${r.previousValidUntil}`,
        };
      });
    });

  keys
    .command('list')
    .description('list parties, roles, key ids and validity')
    .argument('<dir>', 'the exchange folder')
    .option('--at <date>', 'evaluate key validity at this RFC 3339 time (default: now)')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, o: ListCliOptions, cmd: Command) => {
      await run(cmd, o.json, async () => {
        const at = o.at === undefined ? new Date() : new Date(o.at);
        if (Number.isNaN(at.getTime())) throw new TypeError('--at must be a date-time');
        const listing = listRegistry(loadRegistry(paths.registry(dir)), at);
        return { json: listing, text: formatListing(listing) };
      });
    });

  keys
    .command('request')
    .description("on the party's machine: make its TLS key, CSR and JOSE keys; write the request to send to the operator (private keys stay here)")
    .argument('<dir>', "the party's folder (new, or with --renew the enrolled one)")
    .option('--renew', 'renew the certificate of an enrolled party: a new TLS key and CSR (JOSE keys: `keys rotate`)')
    .addOption(new Option('--role <role>', 'the party role').choices(ROLES.filter((r) => r !== 'gateway')))
    .option('--id <id>', 'party id: [a-z0-9][a-z0-9-]{1,62}')
    .option('--name <name>', 'display name')
    .option('--trust-domain <domain>', "the exchange's SPIFFE trust domain", 'hdx.local')
    .addOption(new Option('--sig-alg <alg>', 'signing key algorithm').choices(SIGNING_ALGS).default('ES256'))
    .addOption(new Option('--enc-alg <alg>', 'encryption key algorithm (insurers)').choices(ENCRYPTION_ALGS).default('ECDH-ES+A256KW'))
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, o: RequestCliOptions, cmd: Command) => {
      await run(cmd, o.json, async () => {
        if (o.renew) {
          const r = requestRenewal(dir);
          return { json: r, text: `renewal request for ${r.uri} (current certificate expires ${r.expires}): send ${r.requestPath} to the operator` };
        }
        if (!o.role || !o.id || !o.name) throw new TypeError('--role, --id and --name are required (or --renew)');
        const r = requestEnrolment(dir, { trustDomain: o.trustDomain, role: o.role, id: o.id, name: o.name, signingAlg: o.sigAlg, encryptionAlg: o.encAlg });
        return { json: r, text: `enrolment request for ${r.uri}: send ${r.requestPath} to the operator (it holds no private key)` };
      });
    });

  keys
    .command('sign-request')
    .description("at the operator: check a party's request, issue its certificate from the exchange CA, add its public keys to the registry")
    .argument('<dir>', 'the exchange folder')
    .argument('<request>', 'the enrolment-request.json the party sent')
    .requiredOption('--out <file>', 'the response to send back to the party (must not exist)')
    .option('--valid-days <days>', 'certificate validity', parseDays, 825)
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, request: string, o: { out: string; validDays: number; json?: boolean }, cmd: Command) => {
      await run(cmd, o.json, async () => {
        const r = await signEnrolmentRequest(dir, request, o.out, { certValidDays: Math.max(1, Math.round(o.validDays)) });
        const reload = r.renew ? '' : '; reload the gateway (SIGHUP) so it knows the party';
        return { json: r, text: `${r.renew ? 'renewed' : 'enrolled'} ${r.uri}: certificate valid until ${r.notAfter}; send ${o.out} to the party${reload}` };
      });
    });

  keys
    .command('accept')
    .description("on the party's machine: check the operator's response against this party's request and key, and install the certificate")
    .argument('<dir>', "the party's folder")
    .argument('<response>', 'the response file from `keys sign-request`')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, response: string, o: { json?: boolean }, cmd: Command) => {
      await run(cmd, o.json, async () => {
        const r = acceptEnrolment(dir, response);
        return { json: r, text: `installed the certificate of ${r.uri}, valid until ${r.notAfter}; exchange CA fingerprint ${r.caFingerprint} (compare it with the operator's)` };
      });
    });

  return keys;
}

interface RequestCliOptions {
  renew?: boolean;
  role?: 'hospital' | 'insurer' | 'regulator';
  id?: string;
  name?: string;
  trustDomain: string;
  sigAlg: SigningAlg;
  encAlg: EncryptionAlg;
  json?: boolean;
}

interface InitCliOptions {
  trustDomain: string;
  hospital?: string[];
  insurer?: string[];
  regulator?: string[];
  gatewayAddress: string;
  sigAlg: SigningAlg;
  encAlg: EncryptionAlg;
  encCrv?: EncryptionCurve;
  json?: boolean;
}

interface IssueCliOptions {
  role: 'hospital' | 'insurer' | 'regulator';
  id: string;
  name: string;
  sigAlg: SigningAlg;
  encAlg: EncryptionAlg;
  encCrv?: EncryptionCurve;
  json?: boolean;
}

interface RotateCliOptions {
  party: string;
  use: 'sig' | 'enc' | 'log';
  graceDays: number;
  json?: boolean;
}

interface ListCliOptions {
  at?: string;
  json?: boolean;
}

export type KeyStatus = 'valid' | 'expired' | 'pending';

export interface RegistryListing {
  trustDomain: string;
  at: string;
  parties: {
    id: string;
    role: string;
    name: string;
    uri: string;
    keys: { kid: string; use: string; alg: string; validFrom?: string; validUntil?: string; status: KeyStatus }[];
  }[];
}

function listRegistry(registry: Registry, at: Date): RegistryListing {
  const t = at.getTime();
  return {
    trustDomain: registry.trustDomain,
    at: at.toISOString(),
    parties: registry.parties.map((p) => ({
      id: p.id,
      role: p.role,
      name: p.name,
      uri: p.uri,
      keys: p.keys.map((k) => ({
        kid: k.jwk.kid!,
        use: k.jwk.use!,
        alg: k.jwk.alg!,
        ...(k.validFrom !== undefined && { validFrom: k.validFrom }),
        ...(k.validUntil !== undefined && { validUntil: k.validUntil }),
        status:
          k.validFrom !== undefined && Date.parse(k.validFrom) > t
            ? 'pending'
            : k.validUntil !== undefined && Date.parse(k.validUntil) <= t
              ? 'expired'
              : 'valid',
      })),
    })),
  };
}

function formatListing(listing: RegistryListing): string {
  const lines = [`trust domain ${listing.trustDomain}, validity at ${listing.at}`];
  for (const p of listing.parties) {
    lines.push(`${p.role.padEnd(10)} ${p.id.padEnd(20)} ${p.name}`);
    for (const k of p.keys) {
      const window = `${k.validFrom ?? '-'} .. ${k.validUntil ?? '-'}`;
      lines.push(`    ${k.use} ${k.alg.padEnd(15)} ${k.kid}  ${k.status.padEnd(7)} ${window}`);
    }
  }
  return lines.join('\n');
}

/** `id=name` pairs from the command line. */
function parseSpecs(values: readonly string[]): PartySpec[] {
  return values.map((v) => {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) throw new TypeError('parties are given as id=name');
    return { id: v.slice(0, eq), name: v.slice(eq + 1) };
  });
}

function parseDays(value: string): number {
  const days = Number(value);
  if (!Number.isFinite(days) || days < 0 || days > 3650) throw new InvalidArgumentError('expected a number of days');
  return days;
}

/** Runs a command body: prints its result (JSON or text) or one error line, exit status 1. */
async function run(cmd: Command, json: boolean | undefined, body: () => Promise<{ json: unknown; text: string }>): Promise<void> {
  let result: { json: unknown; text: string };
  try {
    result = await body();
  } catch (error) {
    if (error instanceof KeysError || error instanceof TypeError) {
      const code = error instanceof KeysError ? ` (${error.code})` : '';
      cmd.error(`error: ${error.message}${code}`, { exitCode: 1, code: 'hdx.keys.failed' });
    }
    throw error;
  }
  const out = rootOf(cmd).configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
  out(json ? `${JSON.stringify(result.json, null, 2)}\n` : `${result.text}\n`);
}

function rootOf(cmd: Command): Command {
  let c = cmd;
  while (c.parent) c = c.parent;
  return c;
}
