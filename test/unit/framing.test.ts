// The one length-prefixed framing (runtime/src/framing.ts: the hub's control channel, the debugger's synchronous
// hello, the manager's wire) and the one prototype-safe JSON parser (runtime/src/safeJson.ts). Pure, in memory.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FrameSplitter, jsonFrame, lengthPrefixed } from '../../runtime/src/framing';
import { MAX_JSON_DEPTH, parseData, parseSafeJson } from '../../runtime/src/safeJson';

function split(bytes: Buffer, chunk: number, max = 1 << 20): { bodies: string[]; errors: string[]; splitter: FrameSplitter } {
  const bodies: string[] = [];
  const errors: string[] = [];
  const splitter = new FrameSplitter(
    max,
    (body) => bodies.push(body.toString('utf8')),
    (error) => errors.push(error.message),
  );
  for (let i = 0; i < bytes.length; i += chunk) splitter.push(bytes.subarray(i, i + chunk));
  return { bodies, errors, splitter };
}

describe('framing', () => {
  it('a 4-byte big-endian length, then the body; JSON frames say null for undefined', () => {
    assert.deepEqual([...lengthPrefixed(Buffer.from('ab'))], [0, 0, 0, 2, 97, 98]);
    assert.equal(jsonFrame({ t: 'welcome' }).subarray(4).toString(), '{"t":"welcome"}');
    assert.equal(jsonFrame(undefined).subarray(4).toString(), 'null');
  });

  it('splits frames however the stream is cut, an empty body included', () => {
    const stream = Buffer.concat([jsonFrame({ a: 1 }), lengthPrefixed(Buffer.alloc(0)), jsonFrame('é'.repeat(300))]);
    for (const chunk of [1, 3, 5, 64, stream.length]) {
      assert.deepEqual(split(stream, chunk).bodies, ['{"a":1}', '', JSON.stringify('é'.repeat(300))], `chunks of ${chunk}`);
    }
  });

  it('a length over max fails once and reads nothing more; max may grow between frames; stop() ends quietly', () => {
    const big = jsonFrame('x'.repeat(100));
    const small = jsonFrame(1);
    const over = split(Buffer.concat([small, big, small]), 7, 50);
    assert.deepEqual(over.bodies, ['1']);
    assert.deepEqual(over.errors, ['frame of 102 bytes is over the 50-byte limit']);
    const grown: string[] = [];
    const splitter = new FrameSplitter(
      10,
      (body) => {
        grown.push(body.toString());
        splitter.max = 1000; // as the hub does once the hello is accepted
      },
      assert.fail,
    );
    splitter.push(Buffer.concat([small, big]));
    assert.equal(grown.length, 2);
    const stopped: string[] = [];
    const quiet = new FrameSplitter(
      1000,
      (body) => {
        stopped.push(body.toString());
        quiet.stop();
      },
      assert.fail,
    );
    quiet.push(Buffer.concat([small, small]));
    quiet.push(small);
    assert.deepEqual(stopped, ['1']);
  });
});

describe('safe JSON', () => {
  it('parses data; refuses prototype keys however spelled, deep nesting and bad JSON, saying which', () => {
    assert.deepEqual(parseData('{"a":[1,{"b":null}]}'), { a: [1, { b: null }] });
    assert.throws(() => parseData('{"a":{"__proto__":{"x":1}}}'), { name: 'SyntaxError', message: 'forbidden key "__proto__"' });
    assert.throws(() => parseData('[{"\\u005f_proto__":1}]'), /forbidden key "__proto__"/);
    assert.throws(() => parseData('{"constructor":1}'), /forbidden key "constructor"/);
    assert.throws(() => parseData(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`), /deeper than 32/);
    assert.doesNotThrow(() => parseData(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`));
    assert.doesNotThrow(() => parseData('{"s":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}'), 'brackets inside a string do not count');
    assert.throws(() => parseData('{'), SyntaxError);
    assert.equal(parseSafeJson('{"prototype":1}'), undefined);
    assert.equal(parseSafeJson('nope'), undefined);
    assert.deepEqual(parseSafeJson('[1]'), [1]);
  });
});
