/** What a model runs on (`model.threads`); see src/wasm/threads.ts. */
export interface ThreadInfo {
  /** Threads one call uses, the calling thread included (1: no kernel threads). */
  readonly count: number;
  /** Why not more: no cross-origin isolation, a browser main thread, `threads: 1` asked for, …; null when none is missing. */
  readonly reason: string | null;
}
