import { useEffect, useState } from "react";
import { formatRelative, formatTime } from "../format";
import { Link, path } from "../router";
import type { ProjectSummary } from "../session-context";

/** Re-renders every `ms` so countdowns stay true while a page is left open. */
export function useNow(ms = 15_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/** On every page while the caller has a break-glass session open: which project, until when. */
export function BreakGlassBanners({ projects }: { projects: ProjectSummary[] }) {
  const now = useNow();
  const open = projects.filter((p) => p.activeBreakGlassSession && new Date(p.activeBreakGlassSession.expiresAt).getTime() > now);
  if (open.length === 0) return null;
  return (
    <section className="break-glass-banner" aria-label="Open break-glass sessions">
      {open.map((p) => {
        const session = p.activeBreakGlassSession!;
        return (
          <p key={p.id}>
            <strong>Break-glass session open in {p.slug}</strong>: your rollbacks there skip approval until{" "}
            <time dateTime={session.expiresAt}>{formatTime(session.expiresAt)}</time> (expires {formatRelative(session.expiresAt, now)}). Every action is flagged in the audit
            trail. <Link href={path("projects", p.slug, "break-glass")}>Manage the session in {p.slug}</Link>
          </p>
        );
      })}
    </section>
  );
}
