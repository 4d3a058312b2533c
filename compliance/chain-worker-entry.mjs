// Worker threads do not inherit a TypeScript loader in every host (vitest, plain node): register
// tsx here, then load the real worker module.
import { register } from 'tsx/esm/api';

register();
await import('./chain-worker.ts');
