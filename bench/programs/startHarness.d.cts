// Types of startHarness.cjs for startup.ts.
export declare function mark(file: string): void;
export declare function measure(argv: string[]): Promise<void>;
