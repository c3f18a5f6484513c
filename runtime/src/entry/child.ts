// Entry of every child process and worker thread the runtime starts (runtime/dist/child.cjs).
// It loads the shared runtime bundle (index.cjs, never a second copy; from V8's code cache) and hands over to its bootstrap.
import { join } from 'node:path';
import type * as Bundle from '../bundle';
import { requireWithCodeCache } from '../loader/codeCache';

(requireWithCodeCache(join(__dirname, 'index.cjs')) as typeof Bundle)._runChild();
