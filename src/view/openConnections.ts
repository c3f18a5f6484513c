// The webviews' live connections: each is held while its view or panel is open and let go when it closes, so an
// extension host that opens the view in an editor a hundred times holds no more than what is open now.
// No `vscode` import: the shapes below are the parts of vscode.Disposable and vscode.Event it uses.

interface Disposable {
  dispose(): unknown;
}
type Ended = (listener: () => void) => Disposable;

export class OpenConnections implements Disposable {
  readonly #open = new Set<Disposable>();

  /** Holds `connection` until `ended` fires (the webview closed) or this is disposed (the extension deactivates). */
  hold(connection: Disposable, ended: Ended): void {
    this.#open.add(connection);
    const watch = ended(() => {
      this.#open.delete(connection);
      watch.dispose();
      connection.dispose();
    });
  }

  get size(): number {
    return this.#open.size;
  }

  dispose(): void {
    for (const connection of this.#open) connection.dispose();
    this.#open.clear();
  }
}
