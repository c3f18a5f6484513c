// Pure decisions of the adapter: which announced process gets a debugger, what its session is called,
// and the js-debug (`pwa-node`) attach configuration that reaches its inspector. No `vscode`, no I/O.
import type { AnnouncedProcess } from './programHost';

/** The launch configuration's `attach`: all, none, onDemand, or a filter by process name or role. */
export type AttachPolicy = 'all' | 'none' | 'onDemand' | { names?: string[]; roles?: string[] };

export type AttachDecision = 'attach' | 'release' | 'viaParent';

/** The launch configuration fields a child session inherits. */
export interface ChildSessionOptions {
  cwd?: string;
  skipFiles?: string[];
  sourceMaps?: boolean;
  outFiles?: string[];
  /**
   * `std` when the adapter already forwards the program's stdout/stderr to the Debug Console: js-debug then leaves
   * console API calls alone, so each `console.log` line shows once instead of twice. Default: js-debug's `console`.
   */
  outputCapture?: 'console' | 'std';
}

/** Where the pwa-node configuration carries our bookkeeping; js-debug ignores unknown fields. */
export interface ForkscopeChildTag {
  /** The adapter session that launched the program. */
  rootSessionId: string;
  key: string;
  parent?: string;
  pid: number;
}

export function normalizePolicy(value: unknown): AttachPolicy {
  if (value === 'none' || value === 'onDemand' || value === 'all') return value;
  if (value && typeof value === 'object') {
    const v = value as { names?: unknown; roles?: unknown };
    const strings = (x: unknown) => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : undefined);
    return { names: strings(v.names), roles: strings(v.roles) };
  }
  return 'all';
}

/** Worker threads have no inspector of their own: js-debug reaches them through their process's session. */
export function decideAttach(policy: AttachPolicy, process: AnnouncedProcess): AttachDecision {
  if (!process.inspectorUrl) return 'viaParent';
  // The main process is the program: it is always debugged; the policy says which children are.
  if (process.role === 'main') return 'attach';
  if (policy === 'all') return 'attach';
  if (policy === 'none' || policy === 'onDemand') return 'release';
  const byName = policy.names?.some((pattern) => matches(pattern, process.name)) ?? false;
  const byRole = policy.roles?.includes(process.role) ?? false;
  return byName || byRole ? 'attach' : 'release';
}

/** `Process-3 · worker · pid 4711`: the runtime's name, its role, its pid. */
export function sessionName(process: AnnouncedProcess): string {
  const role = process.role === 'process' ? '' : ` · ${process.role}`;
  return `${process.name}${role} · pid ${process.pid}`;
}

export function attachConfiguration(
  process: AnnouncedProcess,
  options: ChildSessionOptions,
  tag: ForkscopeChildTag,
): Record<string, unknown> & { type: 'pwa-node'; request: 'attach'; name: string } {
  const url = new URL(process.inspectorUrl!);
  return {
    type: 'pwa-node',
    request: 'attach',
    name: sessionName(process),
    websocketAddress: process.inspectorUrl,
    address: url.hostname,
    port: Number(url.port),
    // The process waits in waitForDebugger(): js-debug sets breakpoints, then runs it.
    continueOnAttach: true,
    // Forkscope announces every child itself; js-debug's own child discovery would attach twice.
    autoAttachChildProcesses: false,
    attachExistingChildren: false,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    skipFiles: options.skipFiles ?? ['<node_internals>/**'],
    sourceMaps: options.sourceMaps ?? true,
    ...(options.outFiles ? { outFiles: options.outFiles } : {}),
    ...(options.outputCapture ? { outputCapture: options.outputCapture } : {}),
    __forkscope: tag,
  };
}

/** A filter entry matches a name exactly, or as a glob with `*`. */
function matches(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(name);
}
