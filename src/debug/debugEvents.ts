// Custom DAP events the `forkscope` adapter sends, typed once for the adapter and whatever listens
// (the view, tests). Every name shares the `forkscope/` prefix. Plain data, no imports beyond types.
import type { ProcessKey, ProcessRole } from '../../runtime/src/protocol';
import type { ProgramSnapshot } from '../../hub/snapshot';

export interface ForkscopeEvents {
  /** The program started; `singleProcess` tells the view which mode it is in. */
  'forkscope/launched': { pid: number; singleProcess: boolean; program: string };
  /** A process or worker announced itself, and what the adapter did about its debugger. */
  'forkscope/process': {
    key: ProcessKey;
    pid: number;
    name: string;
    role: ProcessRole;
    parent?: ProcessKey;
    debugger: 'attaching' | 'attached' | 'released' | 'viaParent' | 'none' | 'failed';
    reason?: string;
  };
  /** How far concurrent attaching has got. */
  'forkscope/attachProgress': { attached: number; pending: number; failed: number };
  /** The program model's snapshot, when the hub has one. */
  'forkscope/snapshot': { snapshot: ProgramSnapshot };
}

/** Custom requests the adapter answers (from the view or a command). */
export interface ForkscopeRequests {
  /** Attach a debugger to a process now (the "onDemand" policy, or one that was released). */
  'forkscope/attach': { key: ProcessKey };
  /** Write the session's Chrome trace-event file (the view's Export Trace). */
  'forkscope/exportTrace': { path: string };
  /** The processes announced so far. */
  'forkscope/processes': Record<string, never>;
  /** The session name of a worker thread of the program (`{ name }`), or `{}` when the program has no such thread. */
  'forkscope/thread': { pid: number; threadId: number };
}

export type ForkscopeEventName = keyof ForkscopeEvents;
