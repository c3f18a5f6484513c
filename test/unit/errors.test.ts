// The one error table (runtime/src/errors.ts): every class the runtime throws is exported by the package, is named
// as its Python twin, and comes back as its own class after crossing a process by the one codec (serialize.ts's
// encodeError/decodeError), here in memory and through the broker of another process (the pool worker's and the
// manager's crossings are in test/runtime/pool.test.ts and manager-custom.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { deserialize, serialize } from 'node:v8';
import * as errors from '../../runtime/src/errors';
import { decodeThrown, encodeError } from '../../runtime/src/serialize';
import { Broker } from '../../runtime/src/broker/broker';
import { ENV } from '../../runtime/src/protocol';
import { crossedAs, errorClassNames, sampleError } from '../fixtures/error-samples';

const names = errorClassNames(errors);
const classOf = (name: string) => (errors as Record<string, unknown>)[name] as new (...args: never[]) => Error;

describe('the error table', () => {
  it('every class errors.ts holds is exported by the package', () => {
    const api = require('forkscope') as Record<string, unknown>;
    assert.ok(names.length >= 30, `only ${names.length} classes found`);
    for (const name of names) assert.equal(typeof api[name], 'function', `forkscope does not export ${name}`);
  });

  it('each class is named as its Python twin and found by that name', () => {
    for (const name of names) {
      const sample = sampleError(errors, name);
      if (name === 'RemoteError' || name === 'TargetNotExportedError') continue;
      assert.equal(sample.name, name);
      assert.equal(errors.errorClass(name), classOf(name), `${name} is not in the table`);
      assert.equal(errors.knownErrorName(classOf(name)), name);
    }
    assert.equal(new errors.TargetNotExportedError('x').name, 'PicklingError');
    assert.equal(new errors.Empty().message, 'queue is empty', 'a default message');
    class Mine extends errors.ValueError {}
    assert.equal(errors.knownErrorName(Mine), undefined, "a user's subclass is not the table's class");
  });

  it('no runtime file names an error itself: each throws a class of errors.ts', () => {
    const src = join(__dirname, '..', '..', 'runtime', 'src');
    const dressed: string[] = [];
    for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts') || file === 'errors.ts') continue;
      const text = readFileSync(join(src, file), 'utf8');
      for (const match of text.matchAll(/\.name = '[A-Z]\w*'|name: '\w*Error'|Object\.assign\(new Error/g)) dressed.push(`${file}: ${match[0]}`);
    }
    assert.deepEqual(dressed, []);
  });

  it('every class comes back as itself through encodeError/decodeError, its own fields kept', () => {
    for (const name of names) {
      crossedAs(errors, name)(decodeThrown(deserialize(serialize(encodeError(sampleError(errors, name))))));
    }
    const died = decodeThrown(deserialize(serialize(encodeError(sampleError(errors, 'WorkerDiedError'))))) as errors.WorkerDiedError;
    assert.deepEqual([died.pid, died.signal, died.exitCode], [7, 'SIGKILL', null]);
  });

  it("Node's failed system calls become Python's classes, Node's fields kept", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });
    const error = errors.errnoError(refused) as NodeJS.ErrnoException;
    assert.ok(error instanceof errors.ConnectionRefusedError && error instanceof errors.ConnectionError && error instanceof errors.OSError);
    assert.deepEqual([error.name, error.message, error.code, error.syscall], ['ConnectionRefusedError', refused.message, 'ECONNREFUSED', 'connect']);
    assert.match(error.stack ?? '', /^ConnectionRefusedError: connect ECONNREFUSED/);
    assert.ok(errors.errnoError(Object.assign(new Error('gone'), { code: 'ENOENT' })) instanceof errors.FileNotFoundError);
    assert.equal(errors.errnoError(Object.assign(new Error('?'), { code: 'EWHATEVER' })), undefined);
  });

  it("every class comes back as itself from another process's broker", { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forkscope-errors-'));
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'fixtures', 'errors-broker-owner.ts')], {
      env: { ...process.env, [ENV.ipcDir]: dir },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const broker = new Broker();
    const release = broker.hold();
    try {
      const lines = createInterface({ input: child.stdout! });
      const [first] = (await Promise.race([
        new Promise<string[]>((resolve) => lines.once('line', (line) => resolve([line]))),
        new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`the owner exited with ${code} before it listened`)))),
      ])) as string[];
      lines.close();
      const { address, object } = JSON.parse(first!) as { address: string; object: number };
      const peer = broker.peer(address);
      for (const name of names) {
        await assert.rejects(peer.request(object, 16, Buffer.from(name)), crossedAs(errors, name));
      }
    } finally {
      release();
      broker.close();
      child.stdin!.end();
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
