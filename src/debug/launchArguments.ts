// The `forkscope` launch configuration as the adapter receives it, and its resolution to a LaunchSpec.
// Pure apart from reading `envFile`; no `vscode`.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { LaunchSpec } from './programHost';

export interface ForkscopeLaunchArguments extends DebugProtocol.LaunchRequestArguments {
  program?: string;
  args?: string[];
  cwd?: string;
  env?: Record<string, string | null>;
  envFile?: string;
  runtimeExecutable?: string;
  runtimeArgs?: string[];
  console?: 'internalConsole' | 'integratedTerminal';
  stopOnEntry?: boolean;
  singleProcess?: boolean;
  stopAll?: boolean;
  attach?: unknown;
  skipFiles?: string[];
  sourceMaps?: boolean;
  outFiles?: string[];
}

/** The `attach` configuration: what `forkscope run --inspect` printed, and what child sessions inherit. */
export interface ForkscopeAttachArguments extends DebugProtocol.AttachRequestArguments {
  /** The CLI's observer socket. */
  address?: string;
  token?: string;
  cwd?: string;
  attach?: unknown;
  skipFiles?: string[];
  sourceMaps?: boolean;
  outFiles?: string[];
}

export function resolveLaunchSpec(args: ForkscopeLaunchArguments): LaunchSpec {
  if (typeof args.program !== 'string' || args.program === '') throw new Error('The launch configuration needs a "program".');
  const cwd = args.cwd ? path.resolve(args.cwd) : path.dirname(path.resolve(args.program));
  const env: Record<string, string | null> = {};
  if (args.envFile) Object.assign(env, parseEnvFile(readFileSync(path.resolve(cwd, args.envFile), 'utf8')));
  Object.assign(env, args.env ?? {});
  return {
    program: path.resolve(cwd, args.program),
    args: strings(args.args),
    cwd,
    env,
    runtimeExecutable: args.runtimeExecutable || 'node',
    runtimeArgs: strings(args.runtimeArgs),
    debug: true,
    singleProcess: args.singleProcess === true,
    console: args.console === 'integratedTerminal' ? 'integratedTerminal' : 'internalConsole',
  };
}

/** KEY=VALUE lines; `#` comments, `export ` prefixes and matching quotes are accepted, as dotenv does. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2]!;
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\n/g, '\n');
    }
    out[match[1]!] = value;
  }
  return out;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
