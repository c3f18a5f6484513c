// The TypeScript loader preload (runtime/dist/loader.cjs): `node --require forkscope/dist/loader.cjs app.ts`
// runs app.ts on any Node we support. `forkscope run` and the debug adapter put it in NODE_OPTIONS.
// Self-contained (it does not load the runtime bundle): Node's modules, and esbuild on a cache miss.
import { isMainThread, workerData } from 'node:worker_threads';
import { resolve } from 'node:path';
import { nodeStripsTypes, useTypeScriptFor } from '../loader/typescript';
import { quietTransformTypesWarning } from '../loader/quietTransformTypes';

// In a worker thread the program's module is the one the runtime's bootstrap names; elsewhere, argv[1].
const main = isMainThread ? process.argv[1] : (workerData as { main?: string } | undefined)?.main;
useTypeScriptFor(main ? resolve(main) : undefined);
if (nodeStripsTypes() && process.execArgv.concat(process.env.NODE_OPTIONS ?? '').some((a) => a.includes('--experimental-transform-types')))
  quietTransformTypesWarning();
