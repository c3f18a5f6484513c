// The shared-memory suites skip only where skipping is honest: the binding turned off, or no prebuild for the
// platform. Where the package ships a prebuild, a binding that does not load fails the suite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindingSkip, hasPrebuild, PLATFORM_TAG, PREBUILD_PLATFORMS } from '../runtime/bindingExpected';

test('a loaded binding runs the suite', () => {
  assert.equal(bindingSkip(undefined, { turnedOff: false, prebuilt: true, tag: 'linux-x64' }), false);
});

test('turned off, or no prebuild: skipped with the reason', () => {
  assert.match(String(bindingSkip('off', { turnedOff: true, prebuilt: true, tag: 'linux-x64' })), /FORKSCOPE_SHM_BINDING=none/);
  assert.match(String(bindingSkip('none built', { turnedOff: false, prebuilt: false, tag: 'win32-x64' })), /no prebuild for win32-x64: none built/);
});

test('a prebuild that does not load fails loudly, naming the platform and the cause', () => {
  assert.throws(
    () => bindingSkip('dlopen failed', { turnedOff: false, prebuilt: true, tag: 'linux-x64' }),
    /expected on linux-x64 .*did not load: dlopen failed/,
  );
});

test('the prebuild list is read from the package', () => {
  assert.ok(PREBUILD_PLATFORMS.includes('linux-x64'), String(PREBUILD_PLATFORMS));
  assert.equal(hasPrebuild, PREBUILD_PLATFORMS.includes(PLATFORM_TAG));
});
