// Types for e2e-env.mjs (plain JavaScript so `.ci/run` and the demo run it without a TypeScript loader).
import type { ChildProcess } from 'node:child_process';

export interface E2EEnvironment {
  /** The cache folder: FORKSCOPE_E2E_CACHE, else ~/.cache/forkscope-e2e. */
  cache: string;
  /** Node 24's binary (code-server 4.139.1 needs it). */
  node: string;
  /** code-server's entry script, run with `node`. */
  codeServerEntry: string;
  /** Debian's Chromium. */
  chromium: string;
}
export const CODE_SERVER_VERSION: string;
export const NODE_MAJOR: string;
export const CHROMIUM: string;
export const REDIS_SERVER: string;
export function cacheDir(): string;
export function ensureE2EEnvironment(options?: { log?: (line: string) => void }): E2EEnvironment;
export interface CodeServerDirs {
  userDataDir: string;
  extensionsDir: string;
}
export function installExtension(env: E2EEnvironment, options: CodeServerDirs & { vsix: string }): void;
export function spawnCodeServer(env: E2EEnvironment, options: CodeServerDirs & { port: number; folder: string }): ChildProcess;
export function waitForHealthz(port: number, child: ChildProcess, timeoutMs?: number): Promise<void>;
