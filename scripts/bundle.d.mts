export declare const root: string;
export declare function bundle(outdir: string, entries: Record<string, string>): Promise<void>;
