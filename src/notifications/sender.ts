import type { ReadableStreamReadResult } from "node:stream/web";
import { parseRetryAfter } from "./backoff.js";

export interface SendResult {
  ok: boolean;
  status: number | null;
  error: string | null;
  retryAfterMs: number | null;
}

export type Sender = (url: string, body: string, headers: Record<string, string>, timeoutMs: number) => Promise<SendResult>;

const MAX_ERROR_BODY = 300;

/**
 * POSTs one delivery. Redirects are not followed: the server only ever calls the URL an ADMIN
 * registered. Any 2xx is delivered; everything else (and a timeout) is a failed attempt whose
 * reason is kept for the deliveries list, with at most a short, single-line excerpt of the answer.
 */
export const postDelivery: Sender = async (url, body, headers, timeoutMs) => {
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", body, headers, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    return { ok: false, status: null, error: describeFailure(err, url, timeoutMs), retryAfterMs: null };
  }
  const excerpt = await readExcerpt(res);
  if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, error: null, retryAfterMs: null };
  const why =
    res.status >= 300 && res.status < 400
      ? `receiver answered HTTP ${res.status} (a redirect${res.headers.get("location") ? ` to ${res.headers.get("location")}` : ""}; redirects are not followed: register the final URL)`
      : `receiver answered HTTP ${res.status}${excerpt ? `: ${excerpt}` : ""}`;
  return { ok: false, status: res.status, error: why, retryAfterMs: parseRetryAfter(res.headers.get("retry-after")) };
};

async function readExcerpt(res: Response): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ERROR_BODY) {
      const { done, value } = (await reader.read()) as ReadableStreamReadResult<Uint8Array>;
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // The body is only an excerpt for the error message.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).toString("utf8").replace(/\s+/g, " ").trim();
  return text.length > MAX_ERROR_BODY ? `${text.slice(0, MAX_ERROR_BODY)}…` : text;
}

function describeFailure(err: unknown, url: string, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return `no response within ${timeoutMs} ms`;
  const host = new URL(url).host;
  const code = e?.cause?.code;
  if (code) return `cannot reach ${host}: ${code}`;
  return `cannot reach ${host}: ${e?.cause?.message ?? e?.message ?? String(err)}`;
}
