/**
 * The insurer's side of the settlement bench, in its own process (as on its own machine):
 * `pull --follow --adjudicate` with the example rules, until told to stop.
 */
import { partyChannel } from './channel.js';
import { adjudicate } from '../../insurer-adapter/rules/example-rules.js';
import { pullAndDecide } from '../../insurer-adapter/pull-and-decide.js';
import { openInsurerSession } from '../../insurer-adapter/session.js';

const port = partyChannel();
const { partyDir, address, outDir } = port.config as { partyDir: string; address: string; outDir: string };

const session = await openInsurerSession(partyDir, address);
const abort = new AbortController();
void port.next().then(() => abort.abort());
let failed = 0;
const running = pullAndDecide(session, {
  outDir,
  follow: true,
  rules: adjudicate,
  signal: abort.signal,
  onDecision: (d) => {
    if (!d.ok) failed += 1;
  },
});
// CPU from here on is the loop's (setup is done); reported with the result.
const cpuFrom = process.cpuUsage();
port.send({ type: 'ready' });
const { pulled, decided } = await running;
session.close();
const cpu = process.cpuUsage(cpuFrom);
port.finish({ type: 'done', pulled: pulled.length, decided: decided.length, failed, cpuMs: (cpu.user + cpu.system) / 1000 });
