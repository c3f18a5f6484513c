// SyncManager's Pool: a Pool that lives in the manager's process, its async results and imap iterators served
// as proxies of their own. Python: SyncManager.register('Pool', pool.Pool, proxytype=PoolProxy), with
// 'AsyncResult' and 'Iterator' (create_method=False). The pool module loads only when a Pool is asked for, so
// a manager that serves none stays light. Node's modules only; runs in the manager's server process.
import type { TypeSpec } from './server';

/** The methods a Pool proxy calls. Python: PoolProxy._exposed_ */
export const POOL_EXPOSED = [
  'apply',
  'applyAsync',
  'close',
  'imap',
  'imapUnordered',
  'join',
  'map',
  'mapAsync',
  'starmap',
  'starmapAsync',
  'terminate',
] as const;

/** The typeids a SyncManager serves for its Pool; live values (functions cross by reference), as a user's typeid. */
export const poolTypes: Record<string, TypeSpec> = {
  Pool: {
    factory: async (...args: unknown[]) => {
      const { Pool } = await import('../pool');
      return new Pool(...(args as ConstructorParameters<typeof Pool>));
    },
    exposed: POOL_EXPOSED,
    methodToTypeid: { applyAsync: 'AsyncResult', mapAsync: 'AsyncResult', starmapAsync: 'AsyncResult', imap: 'Iterator', imapUnordered: 'Iterator' },
    custom: true,
  },
  AsyncResult: { exposed: ['get', 'wait', 'ready', 'successful'], custom: true },
  Iterator: { exposed: ['next'], custom: true },
};
