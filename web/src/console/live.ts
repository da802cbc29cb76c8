import { useCallback, useEffect, useRef } from "react";
import type { OperationContext } from "urql";

/**
 * Events that change what a page derives from several entities (a sync report turning deployments
 * SUCCESS, a rollback marking others ROLLED_BACK) refetch the page's query, coalesced so a burst of
 * events costs one request. The page keeps showing its data while the refetch runs.
 */
export function useRefetchOnEvent(reexecute: (opts?: Partial<OperationContext>) => void, delayMs = 300): () => void {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);
  return useCallback(() => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      timer.current = null;
      reexecute({ requestPolicy: "network-only" });
    }, delayMs);
  }, [reexecute, delayMs]);
}
