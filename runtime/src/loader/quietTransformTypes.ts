// `forkscope run` and the adapter turn on Node's --experimental-transform-types (enums, parameter
// properties) where Node strips types itself; its "experimental" warning is theirs to keep quiet, so
// every process does not print it. Node's modules only.

/** Drops exactly Node's "Transform Types is an experimental feature" warning from this process. */
export function quietTransformTypesWarning(): void {
  const emit = process.emitWarning;
  process.emitWarning = function emitWarning(this: unknown, warning: string | Error, ...rest: unknown[]): void {
    const text = typeof warning === 'string' ? warning : warning?.message;
    if (typeof text === 'string' && text.startsWith('Transform Types is an experimental feature')) return;
    (emit as (...args: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
}
