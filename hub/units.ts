// How sizes read wherever Forkscope shows them (the terminal tree and the view): one formatter, so a pipe's
// "3.2 MB" is the same text in both. Pure: no Node, no DOM.

/** Bytes in binary units with one decimal ("200.0 KB", "3.2 MB"); "–" when unknown. */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return '–';
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}
