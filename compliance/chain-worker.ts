/** Worker-thread side of `ParallelEventChain`: checks one block of events per message. */
import { parentPort } from 'node:worker_threads';
import { checkBlock, type BlockInput } from './chain-block.js';

parentPort?.on('message', (message: { id: number; block: BlockInput }) => {
  // Typed arrays arrive as such; the stored leaves were transferred, not copied.
  const result = checkBlock(message.block);
  const transfer = [result.leaves.buffer as ArrayBuffer, ...(result.levels ? [result.levels.buffer as ArrayBuffer] : [])];
  parentPort!.postMessage({ id: message.id, result }, transfer);
});
