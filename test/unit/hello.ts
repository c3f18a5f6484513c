// The hello a process sends first, as the model's unit tests replay it: a spawned process unless `extra` says otherwise.
import type { Hello } from '../../runtime/src/protocol';

export const hello = (pid: number, name: string, extra: Partial<Hello> = {}): Hello => ({
  t: 'hello',
  v: 1,
  token: 'x',
  pid,
  ppid: 1,
  threadId: 0,
  name,
  startMethod: 'spawn',
  role: 'process',
  ...extra,
});
