// What each code lens over `if (isMainProcess())` starts, as plain data: the debug configurations of
// "Debug all processes" and "Run as single process", and the `forkscope run --trace` command of "Trace".
// No `vscode` import, so tests read it outside VS Code.
import * as path from 'node:path';
import { DEBUG_TYPE } from '../contributions';

export type LensMode = 'debug' | 'single';

export interface LensDebugConfiguration {
  type: string;
  request: 'launch';
  name: string;
  program: string;
  singleProcess?: boolean;
}

/** A launch of the file under the `forkscope` debug type: every process attached, or everything in one. */
export function lensConfiguration(program: string, mode: LensMode): LensDebugConfiguration {
  const name = path.basename(program);
  if (mode === 'single') return { type: DEBUG_TYPE, request: 'launch', name: `Forkscope: ${name} (single process)`, program, singleProcess: true };
  return { type: DEBUG_TYPE, request: 'launch', name: `Forkscope: ${name}`, program };
}

export interface TraceRun {
  /** Run through the shell as one argument each (the caller quotes them). */
  command: string;
  args: string[];
  cwd: string;
  traceFile: string;
}

/**
 * `npx forkscope run app.ts --trace app.trace.json` beside the program: the package's own CLI records the
 * whole tree as Chrome trace events (open in Perfetto), with no debugger slowing it down.
 */
export function traceRun(program: string): TraceRun {
  const dir = path.dirname(program);
  const traceFile = path.join(dir, `${path.basename(program).replace(/\.[^.]+$/, '')}.trace.json`);
  return { command: 'npx', args: ['--no', 'forkscope', 'run', program, '--trace', traceFile], cwd: dir, traceFile };
}
