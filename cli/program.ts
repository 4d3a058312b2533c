/**
 * `hdx`: one command, a subcommand per user — `keys` (exchange operator), `gateway` (operator),
 * `hospital` (hospital IT), `insurer` (insurers), `audit` (compliance officers), `deid` (privacy
 * officers testing profiles). Exit status 0 on success, 1 on failure, with a one-line reason.
 */
import { Command } from 'commander';
import { registerAuditCommands } from '../compliance/cli.js';
import { registerDeidCommands } from '../gateway/deid/cli.js';
import { registerGatewayCommands } from '../gateway/cli.js';
import { registerHospitalCommands } from '../hospital-adapter/cli.js';
import { registerInsurerCommands } from '../insurer-adapter/cli.js';
import { registerKeysCommands } from '../keys/cli.js';

export function buildProgram(): Command {
  const program = new Command('hdx')
    .description('hdx — privacy-preserving hospital data exchange (consent, de-identification, sealed transfer, verifiable audit)')
    .version('0.1.0')
    .showHelpAfterError();
  registerKeysCommands(program);
  registerGatewayCommands(program);
  registerHospitalCommands(program);
  registerInsurerCommands(program);
  registerAuditCommands(program);
  registerDeidCommands(program);
  return program;
}

