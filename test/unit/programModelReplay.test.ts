// The model on event streams recorded from real runs (`forkscope run … --record`): replayed line by
// line exactly as the hub received them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hello, RuntimeEvent } from '../../runtime/src/protocol';
import { ProgramModel } from '../../hub/programModel';
import type { ProgramSnapshot } from '../../hub/snapshot';

type Line = { key: string; hello?: Hello; events?: RuntimeEvent[] };

function replay(file: string, each?: (s: ProgramSnapshot) => void): ProgramSnapshot {
  const model = new ProgramModel();
  for (const text of readFileSync(join(__dirname, '..', 'fixtures', file), 'utf8').split('\n')) {
    if (!text) continue;
    const line = JSON.parse(text) as Line;
    if (line.hello) model.hello(line.hello, line.events?.[0]?.ts ?? model.now);
    if (line.events) model.applyAll(line.key, line.events);
    each?.(model.snapshot());
  }
  return model.snapshot();
}

describe('ProgramModel on recorded runs', () => {
  it('producer_consumer.ts: main with Process-1 and Process-2, their queue, everyone exited 0', () => {
    const s = replay('hub-recorded-producer-consumer.jsonl');
    const main = s.processes.find((p) => p.parent === undefined)!;
    assert.deepEqual([main.name, main.role, main.exitCode], ['MainProcess', 'main', 0]);
    const children = s.processes.filter((p) => p.parent === main.key).map((p) => [p.name, p.role, p.external, p.exitCode]);
    assert.deepEqual(
      children.sort(),
      [
        ['Process-1', 'process', undefined, 0],
        ['Process-2', 'process', undefined, 0],
      ],
      "the runtime names its children over the preload's guess",
    );
    const [q] = s.queues;
    assert.equal(q!.kind, 'Queue');
    assert.ok(q!.puts > 0 && q!.puts >= q!.gets);
    assert.equal(q!.site?.line, 27);
  });

  it('the protocol deadlock fixture: the cycle appears while both wait, and clears', () => {
    let seen = 0;
    const s = replay('hub-recorded-deadlock.jsonl', (snap) => {
      if (snap.deadlocks.length > 0) {
        seen++;
        const [d] = snap.deadlocks;
        assert.equal(d!.cycle.length, 2);
        assert.ok(d!.cycle.every((c) => c.site?.file.endsWith('hub-deadlock-child.ts') && c.site.line === 5));
      }
    });
    assert.ok(seen > 0, 'the deadlock was detected during the replay');
    assert.deepEqual(s.deadlocks, []);
    assert.equal(s.syncs.length, 2);
  });
});
