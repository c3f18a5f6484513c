// Paces what one webview receives: a full snapshot when it (re)appears or asks, then deltas at most
// `maxUpdatesPerSecond` times a second, nothing while hidden. No vscode import, so it is unit-tested.
import type { ProgramSnapshot } from '../../hub/snapshot';
import type { HostToWebview } from './messages';
import { snapshotDiff } from './snapshotDiff';

export interface ViewContent {
  snapshot: ProgramSnapshot | null;
  sessionName?: string;
}

export interface ViewUpdaterOptions {
  /** What the view should show now (the followed session's latest snapshot). */
  content(): ViewContent;
  post(message: HostToWebview): void;
  maxUpdatesPerSecond(): number;
  now?(): number;
  setTimer?(callback: () => void, ms: number): unknown;
  clearTimer?(handle: unknown): void;
}

export class ViewUpdater {
  readonly #options: ViewUpdaterOptions;
  readonly #now: () => number;
  #isVisible = false;
  #lastSent: ViewContent | undefined;
  #lastSentAt = -Infinity;
  #timer: unknown;
  #isDisposed = false;

  constructor(options: ViewUpdaterOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get isVisible(): boolean {
    return this.#isVisible;
  }

  /** Shown: a full snapshot at once (the view may have been rebuilt). Hidden: stop sending. */
  setVisible(isVisible: boolean): void {
    if (this.#isDisposed || isVisible === this.#isVisible) return;
    this.#isVisible = isVisible;
    if (isVisible) this.resync();
    else this.#cancel();
  }

  /** The view asked for everything (first load, or it lost track of versions). */
  resync(): void {
    this.#lastSent = undefined;
    if (this.#isVisible) this.#flush();
  }

  /** The program changed: send soon, no more often than the cap allows. */
  notify(): void {
    if (this.#isDisposed || !this.#isVisible || this.#timer !== undefined) return;
    const interval = 1000 / Math.max(1, Math.min(60, this.#options.maxUpdatesPerSecond() || 10));
    const wait = this.#lastSentAt + interval - this.#now();
    if (wait <= 0) this.#flush();
    else
      this.#timer = (this.#options.setTimer ?? setTimeout)(() => {
        this.#timer = undefined;
        this.#flush();
      }, wait);
  }

  dispose(): void {
    this.#isDisposed = true;
    this.#cancel();
  }

  #cancel(): void {
    if (this.#timer !== undefined) (this.#options.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout)))(this.#timer);
    this.#timer = undefined;
  }

  #flush(): void {
    if (this.#isDisposed || !this.#isVisible) return;
    const content = this.#options.content();
    const last = this.#lastSent;
    const now = this.#now();
    if (!last?.snapshot || !content.snapshot || last.sessionName !== content.sessionName) {
      if (last && last.snapshot === content.snapshot && last.sessionName === content.sessionName) return;
      this.#options.post({ type: 'snapshot', snapshot: content.snapshot, sessionName: content.sessionName, now });
    } else {
      if (last.snapshot === content.snapshot) return;
      const delta = snapshotDiff(last.snapshot, content.snapshot);
      if (!delta) {
        this.#lastSent = content;
        return;
      }
      // A model that restarted its versions, or skipped back, gets a fresh full picture.
      if (content.snapshot.version < last.snapshot.version)
        this.#options.post({ type: 'snapshot', snapshot: content.snapshot, sessionName: content.sessionName, now });
      else this.#options.post({ type: 'delta', delta, now });
    }
    this.#lastSent = content;
    this.#lastSentAt = now;
  }
}
