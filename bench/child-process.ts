/**
 * How a bench child process that failed tells its parent: an `error` message on the IPC channel
 * (the parent rejects with it), or the error on stderr when started without one; then it lets go.
 */
export function reportChildFailure(err: unknown): void {
  if (process.send) process.send({ kind: "error", message: (err as Error).stack ?? String(err) });
  else console.error(err);
  process.exitCode = 1;
  process.disconnect?.();
}
