// package.json's contributions and src/contributions.ts's typed ids must agree, both directions.
// Pure: reads two files, starts nothing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as contributions from '../../src/contributions';

interface Manifest {
  activationEvents?: string[];
  contributes: {
    commands?: { command: string }[];
    views?: Record<string, { id: string; type?: string }[]>;
    viewsContainers?: Record<string, { id: string }[]>;
    configuration?: { properties: Record<string, unknown> } | { properties: Record<string, unknown> }[];
    debuggers?: { type: string; initialConfigurations?: { type: string }[]; configurationSnippets?: { body: { type: string } }[] }[];
    menus?: Record<string, { command: string }[]>;
  };
}

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as Manifest;

/** Each mismatch as a readable line, so a failure says exactly what to fix and on which side. */
export function diffIds(kind: string, inManifest: Iterable<string>, inCode: Iterable<string>): string[] {
  const m = new Set(inManifest);
  const c = new Set(inCode);
  return [
    ...[...m].filter((id) => !c.has(id)).map((id) => `${kind} ${id} is in package.json but not in src/contributions.ts`),
    ...[...c].filter((id) => !m.has(id)).map((id) => `${kind} ${id} is in src/contributions.ts but not in package.json`),
  ];
}

function settingIds(): string[] {
  const config = manifest.contributes.configuration;
  const sections = Array.isArray(config) ? config : config ? [config] : [];
  return sections.flatMap((s) => Object.keys(s.properties));
}

describe('package.json contributions vs src/contributions.ts', () => {
  it('diffIds() reports ids missing on either side (negative case)', () => {
    assert.deepEqual(diffIds('command', ['a', 'b'], ['b', 'c']), [
      'command a is in package.json but not in src/contributions.ts',
      'command c is in src/contributions.ts but not in package.json',
    ]);
    assert.deepEqual(diffIds('view', ['x'], ['x']), []);
  });

  it('commands agree', () => {
    const ids = (manifest.contributes.commands ?? []).map((c) => c.command);
    assert.deepEqual(diffIds('command', ids, Object.values(contributions.Commands)), []);
  });

  it('views agree', () => {
    const ids = Object.values(manifest.contributes.views ?? {}).flatMap((views) => views.map((v) => v.id));
    assert.deepEqual(diffIds('view', ids, Object.values(contributions.Views)), []);
  });

  it('the view container agrees and holds the views', () => {
    const containers = Object.values(manifest.contributes.viewsContainers ?? {}).flatMap((list) => list.map((c) => c.id));
    assert.deepEqual(diffIds('view container', containers, [contributions.VIEW_CONTAINER]), []);
    assert.ok(manifest.contributes.views?.[contributions.VIEW_CONTAINER]?.length, 'the Forkscope container has views');
  });

  it('settings agree', () => {
    assert.deepEqual(diffIds('setting', settingIds(), Object.values(contributions.Settings)), []);
  });

  it('the debug type agrees, in the debugger, its initial configurations and snippets', () => {
    const debuggers = manifest.contributes.debuggers ?? [];
    assert.deepEqual(
      diffIds(
        'debug type',
        debuggers.map((d) => d.type),
        [contributions.DEBUG_TYPE],
      ),
      [],
    );
    for (const d of debuggers) {
      for (const c of d.initialConfigurations ?? []) assert.equal(c.type, contributions.DEBUG_TYPE);
      for (const s of d.configurationSnippets ?? []) assert.equal(s.body.type, contributions.DEBUG_TYPE);
    }
  });

  it('menus and activation events name only contributed commands, views and the debug type', () => {
    const commands = new Set(Object.values(contributions.Commands) as string[]);
    for (const [menu, items] of Object.entries(manifest.contributes.menus ?? {})) {
      for (const item of items) assert.ok(commands.has(item.command), `menu ${menu} names unknown command ${item.command}`);
    }
    const views = new Set(Object.values(contributions.Views) as string[]);
    for (const event of manifest.activationEvents ?? []) {
      const [kind, arg] = event.split(':');
      if (kind === 'onCommand') assert.ok(commands.has(arg!), `activation event ${event}`);
      if (kind === 'onView') assert.ok(views.has(arg!), `activation event ${event}`);
      if (kind === 'onDebugResolve' || kind === 'onDebugDynamicConfigurations') assert.equal(arg, contributions.DEBUG_TYPE, `activation event ${event}`);
    }
  });

  it('restricted settings exist', () => {
    const restricted =
      (manifest as { capabilities?: { untrustedWorkspaces?: { restrictedConfigurations?: string[] } } }).capabilities?.untrustedWorkspaces
        ?.restrictedConfigurations ?? [];
    const settings = new Set(settingIds());
    for (const id of restricted) assert.ok(settings.has(id), `restrictedConfigurations names unknown setting ${id}`);
  });
});
