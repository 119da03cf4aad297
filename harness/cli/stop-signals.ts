/**
 * The signals that stop a run in order: every service stopped, a partial result written, exit
 * 130. SIGHUP is what a closed terminal or an SSH session that dropped sends, and what some CI
 * runners send on cancel; left to its default it would end faultline without stopping anything.
 */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Calls `handler` on each stop signal until the returned function is called. */
export function onStopSignals(handler: (signal: NodeJS.Signals) => void): () => void {
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return () => {
    for (const s of STOP_SIGNALS) process.off(s, handler);
  };
}
