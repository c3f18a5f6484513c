// Types of startHarness.cjs for startup.ts.
export declare function measure(argv: string[], targets: { mark(file: string): void; count(v: unknown, n: number): Promise<void> }): Promise<void>;
