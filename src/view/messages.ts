// Typed messages between the extension host and the webview, one definition for both sides.
// No Node or vscode imports: the webview bundle imports this file.
import type { ProgramSnapshot } from '../hub/snapshot';

export type HostToWebview =
  | { type: 'snapshot'; snapshot: ProgramSnapshot | null; sessionName?: string };

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'launchActiveFile' };

const WEBVIEW_MESSAGE_TYPES: ReadonlySet<string> = new Set<WebviewToHost['type']>(['ready', 'launchActiveFile']);

/** The allowlist check every message from the webview passes before the host acts on it. */
export function isWebviewToHost(value: unknown): value is WebviewToHost {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return typeof type === 'string' && WEBVIEW_MESSAGE_TYPES.has(type) && Object.keys(value).length === 1;
}
