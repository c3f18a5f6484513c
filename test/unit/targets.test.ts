// findTarget/loadTarget: a function is found by module and export name, the way pickle finds it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findTarget, loadTarget } from '../../runtime/src/targets';
import * as cjs from '../fixtures/runtime-targets-cjs';

describe('findTarget', () => {
  it('finds an exported CommonJS function and loads the same function back', async () => {
    const ref = findTarget(cjs.square);
    assert.equal(ref.name, 'square');
    assert.match(ref.module, /runtime-targets-cjs\.ts$/);
    assert.equal(await loadTarget(ref), cjs.square);
  });
  it('finds a renamed export by its exported name', async () => {
    const ref = findTarget(cjs.renamed);
    assert.equal(ref.name, 'renamed');
    assert.equal(await loadTarget(ref), cjs.renamed);
  });
  it('refuses a closure and a non-exported function, naming it and saying to export it', () => {
    assert.throws(() => findTarget(cjs.notExportedHolder()), { name: 'PicklingError', message: /function notExported is not exported.*export it/ });
    assert.throws(() => findTarget(cjs.makeClosure()), { name: 'PicklingError', message: /export it/ });
  });
  it('finds ES module exports: named, aliased, default and classes', async () => {
    const esm = await import('../fixtures/runtime-targets-esm.mjs');
    for (const [fn, name] of [
      [esm.cube, 'cube'],
      [esm.alias, 'alias'],
      [esm.default, 'default'],
      [esm.Shape, 'Shape'],
    ] as const) {
      const ref = findTarget(fn);
      assert.equal(ref.name, name);
      assert.equal(await loadTarget(ref), fn);
    }
  });
  it('refuses ES module closures, private functions and class methods', async () => {
    const esm = await import('../fixtures/runtime-targets-esm.mjs');
    assert.throws(() => findTarget(esm.makeClosure()), { name: 'PicklingError', message: /closure or a nested function/ });
    assert.throws(() => findTarget(esm.privateOne()), {
      name: 'PicklingError',
      message: /function priv is not exported from .*runtime-targets-esm\.mts; export it/,
    });
    assert.throws(() => findTarget(esm.Shape.prototype.area), { name: 'PicklingError', message: /class method/ });
  });
  it('refuses an anonymous inline arrow in a module with a default export, instead of taking the default', async () => {
    const esm = await import('../fixtures/runtime-targets-esm-anon.mjs');
    assert.equal(esm.inline.name, '');
    assert.throws(() => findTarget(esm.inline), { name: 'PicklingError', message: /anonymous function is not exported.*export it/ });
    const ref = findTarget(esm.default);
    assert.equal(ref.name, 'default');
    assert.equal(await loadTarget(ref), esm.default);
  });
  it('refuses bound and built-in functions', () => {
    assert.throws(() => findTarget(cjs.square.bind(null)), { name: 'PicklingError' });
    assert.throws(() => findTarget(Math.max), { name: 'PicklingError' });
  });
});
