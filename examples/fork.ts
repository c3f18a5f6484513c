// Seed 000 (fork.py): Node has no fork(), so the child is a Process. Each process appends its own pid to
// its own copy of pidList: the two do not share memory, as after os.fork().
import { Process, isMainProcess } from 'forkscope';

const pidList: number[] = [];

export function child(parentPids: number[]): void {
  pidList.push(...parentPids, process.pid);
  console.log();
  console.log('Child: こんにちは,私はChildプロセスです');
  console.log(`Child:The PID number I know is${JSON.stringify(pidList)}`);
}

async function main(): Promise<void> {
  pidList.push(process.pid);
  const p = new Process({ target: child, args: [[...pidList]] });
  p.start();
  pidList.push(process.pid);
  console.log();
  console.log('parent:こんにちは,私はparentプロセスです');
  console.log(`parent:The PID number of the child process is${p.pid}`);
  console.log(`parent:The PID number I know is${JSON.stringify(pidList)}`);
  await p.join();
}

if (isMainProcess()) void main();
