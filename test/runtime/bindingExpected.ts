// Whether this machine must have the shared-memory binding: where the package ships a prebuild for the platform,
// a suite that needs the binding fails loudly when it does not load, instead of skipping itself and passing.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bindingFailure } from '../../runtime/src/shm/binding';

export const PLATFORM_TAG = `${process.platform}-${process.arch}`;
const PREBUILDS = join(__dirname, '..', '..', 'runtime', 'native', 'prebuilds');
/** The platforms the package ships a prebuild for: the folders runtime/native/prebuild.mjs writes. */
export const PREBUILD_PLATFORMS: readonly string[] = existsSync(PREBUILDS) ? readdirSync(PREBUILDS) : [];
export const hasPrebuild = PREBUILD_PLATFORMS.includes(PLATFORM_TAG);

/**
 * The `skip` option for a suite that needs the binding: false when it loaded; a reason when it is turned off on
 * purpose (FORKSCOPE_SHM_BINDING=none) or this platform has no prebuild; and a thrown error, failing the file, when a
 * prebuild exists for this platform and still did not load.
 */
export function skipWithoutBinding(): string | false {
  return bindingSkip(bindingFailure(), { turnedOff: process.env.FORKSCOPE_SHM_BINDING === 'none', prebuilt: hasPrebuild, tag: PLATFORM_TAG });
}

/** skipWithoutBinding's decision, given why the binding did not load (undefined: it did). */
export function bindingSkip(failure: string | undefined, where: { turnedOff: boolean; prebuilt: boolean; tag: string }): string | false {
  if (failure === undefined) return false;
  if (where.turnedOff) return 'the binding is turned off (FORKSCOPE_SHM_BINDING=none)';
  if (!where.prebuilt) return `no prebuild for ${where.tag}: ${failure}`;
  throw new Error(`the shared-memory binding is expected on ${where.tag} (runtime/native/prebuilds/${where.tag}) but did not load: ${failure}`);
}
