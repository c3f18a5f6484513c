// The names the hub gives objects made without one: the binding at the construction site, else kind and number.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectNamer, bindingName } from '../../hub/objectNames';
import { OBJECT_KINDS, type ObjectCreated } from '../../runtime/src/protocol';

describe('bindingName', () => {
  it('reads the binding a construction declares', () => {
    assert.equal(bindingName('  const accounts = new Lock();', 'Lock'), 'accounts');
    assert.equal(bindingName('let ledger = new mp.Lock()', 'Lock'), 'ledger');
    assert.equal(bindingName('var q: Queue<number> = new Queue<number>(10);', 'Queue'), 'q');
    assert.equal(bindingName('    this.tasks = new Queue();', 'Queue'), 'tasks');
    assert.equal(bindingName('  tasks = new Queue<number>();', 'Queue'), 'tasks');
    assert.equal(bindingName('  private readonly tasks = new JoinableQueue();', 'JoinableQueue'), 'tasks');
    assert.equal(bindingName('  #tasks = new Queue();', 'Queue'), 'tasks');
    assert.equal(bindingName('const jobs = ctx.Queue();', 'Queue'), 'jobs');
    assert.equal(bindingName('const lock = await manager.Lock();', 'Lock'), 'lock');
    assert.equal(bindingName('  const [conn1, conn2] = Pipe();', 'Pipe'), 'conn1 ⇄ conn2');
    assert.equal(bindingName('const [a, b] = ctx.Pipe(false);', 'Pipe'), 'a ⇄ b');
    assert.equal(bindingName('const opts = { gate: new Event() };', 'Event'), 'gate');
  });

  it('picks the construction at the column when a line has several', () => {
    const line = 'const a = new Lock(), b = new Lock();';
    assert.equal(bindingName(line, 'Lock', line.indexOf('new Lock') + 1), 'a');
    assert.equal(bindingName(line, 'Lock', line.lastIndexOf('new Lock') + 1), 'b');
  });

  it('gives no name where the line declares none or makes another kind', () => {
    assert.equal(bindingName('locks.push(new Lock());', 'Lock'), undefined);
    assert.equal(bindingName('return new Lock();', 'Lock'), undefined);
    assert.equal(bindingName('const f = () => new Lock();', 'Lock'), undefined);
    assert.equal(bindingName('const q = new Queue();', 'Lock'), undefined, 'a Lock a Queue makes inside is not the queue');
    assert.equal(bindingName('const c = new MessageChannel();', 'Channel'), undefined);
  });

  it('names every kind made by a constructor call, and leaves Pool, Manager and Channel to their labels or numbers', () => {
    for (const kind of OBJECT_KINDS) {
      const named = bindingName(`const x = new ${kind}();`, kind);
      assert.equal(named, ['Pool', 'Manager', 'Channel'].includes(kind) ? undefined : 'x', kind);
    }
  });
});

describe('ObjectNamer', () => {
  it('names from the source line at the site, numbers the rest per kind, and never throws on a bad site', () => {
    const dir = mkdtempSync(join(tmpdir(), 'forkscope-names-'));
    try {
      const file = join(dir, 'p.ts');
      writeFileSync(file, 'import x from "y";\nconst accounts = new Lock();\nlocks.push(new Lock());\n');
      const namer = new ObjectNamer();
      const made = (line: number, kind: ObjectCreated['kind'] = 'Lock', f = file): ObjectCreated => {
        const e: ObjectCreated = { t: 'object', ts: 1, id: `${kind}-1-${line}`, kind, site: { file: f, line, column: 1 } };
        namer.name(e);
        return e;
      };
      assert.equal(made(2).label, 'accounts');
      assert.equal(made(2).label, 'accounts 2');
      assert.equal(made(3).label, 'Lock 1');
      assert.equal(made(3).label, 'Lock 2');
      assert.equal(made(1, 'Queue', join(dir, 'missing.ts')).label, 'Queue 1');
      assert.equal(made(99).label, 'Lock 3');
      const labelled: ObjectCreated = { t: 'object', ts: 1, id: 'c', kind: 'Channel', label: 'IPC x' };
      namer.name(labelled);
      assert.equal(labelled.label, 'IPC x');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
