// Command, view and setting ids as one typed map, mirrored from package.json (a unit test checks both agree).
// No `vscode` import: the adapter core and tests read these outside VS Code.

export const DEBUG_TYPE = 'forkscope';
export const VIEW_CONTAINER = 'forkscope';

export const Commands = {
  launchActiveFile: 'forkscope.launchActiveFile',
  toggleSingleProcess: 'forkscope.toggleSingleProcess',
  openInEditor: 'forkscope.openInEditor',
  exportTrace: 'forkscope.exportTrace',
  toggleStopAll: 'forkscope.toggleStopAll',
  revealProcess: 'forkscope.revealProcess',
  debugAllProcesses: 'forkscope.debugAllProcesses',
  runSingleProcess: 'forkscope.runSingleProcess',
  traceProgram: 'forkscope.traceProgram',
} as const;

export const Views = {
  program: 'forkscope.programView',
  processes: 'forkscope.processes',
} as const;

export const Settings = {
  runtimeExecutable: 'forkscope.runtimeExecutable',
  maxUpdatesPerSecond: 'forkscope.view.maxUpdatesPerSecond',
} as const;

export type CommandId = (typeof Commands)[keyof typeof Commands];
export type ViewId = (typeof Views)[keyof typeof Views];
export type SettingId = (typeof Settings)[keyof typeof Settings];
