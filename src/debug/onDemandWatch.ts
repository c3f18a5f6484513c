// `attach: "onDemand"`: a quiet session of the adapter's own on a released process's inspector, so a stop that no
// debugger would see (a `debugger` statement, an uncaught exception) is noticed and a debugger attached to it there.
// No `vscode`; loopback CDP only (cdpConnection.ts).
import { CdpConnection } from './cdpConnection';

/** Where a watched process stopped, as V8 reports it. */
export interface WatchedPause {
  reason: string;
  scriptId?: string;
  /** 0-based, as CDP counts. */
  lineNumber?: number;
}

export interface PauseWatch {
  /**
   * Hands the stopped process over to the debugger that attached meanwhile: never resumes it, and leaves once it
   * runs again (leaving at once could let the runtime's sentinel see no client before the debugger connects).
   */
  handOver(): void;
  /** Leaves now. */
  close(): void;
  /** Resumes the process (no debugger could attach), then leaves. */
  resume(): Promise<void>;
}

/**
 * Opens the watch before the process is released, so its first `debugger` statement cannot pass unseen. With the
 * Debugger domain on, V8 pauses there for this session; pause on uncaught exceptions is asked for explicitly.
 */
export async function watchForPause(url: string, onPause: (pause: WatchedPause) => void, timeoutMs = 5_000): Promise<PauseWatch> {
  const cdp = await CdpConnection.open(url, timeoutMs);
  let closed = false;
  const close = () => {
    closed = true;
    void cdp.leave();
  };
  try {
    // Node keeps an exiting process alive while a session is connected, unless that session asked to be told.
    await cdp.call('NodeRuntime.notifyWhenWaitingForDisconnect', { enabled: true });
    cdp.once('NodeRuntime.waitingForDisconnect', close);
    cdp.once('Debugger.paused', (params) => {
      if (closed) return;
      const p = params as { reason: string; callFrames?: Array<{ location: { scriptId: string; lineNumber: number } }> };
      const top = p.callFrames?.[0]?.location;
      onPause({ reason: p.reason, ...(top ? { scriptId: top.scriptId, lineNumber: top.lineNumber } : {}) });
    });
    await cdp.call('Debugger.enable');
    await cdp.call('Debugger.setPauseOnExceptions', { state: 'uncaught' });
  } catch (error) {
    close();
    throw error;
  }
  return {
    handOver: () => cdp.once('Debugger.resumed', close),
    close,
    async resume() {
      try {
        await cdp.call('Debugger.resume');
      } finally {
        close();
      }
    },
  };
}
