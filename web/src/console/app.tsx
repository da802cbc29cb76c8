import { useCallback, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from "react";
import { Provider, useQuery } from "urql";
import { graphql } from "../gql";
import { createConsoleClient, type ConsoleClient } from "./client";
import { BreakGlassBanners } from "./components/break-glass-banner";
import { ErrorMessage } from "./components/feedback";
import { ApprovalsPage } from "./pages/approvals";
import { AuditPage } from "./pages/audit";
import { BreakGlassPage } from "./pages/break-glass";
import { ComparePage } from "./pages/compare";
import { HistoryPage } from "./pages/history";
import { NotFound } from "./pages/not-found";
import { OverviewPage } from "./pages/overview";
import { ProjectsPage } from "./pages/projects";
import { RequestPage } from "./pages/request";
import { SignIn } from "./pages/sign-in";
import { WizardPage } from "./pages/wizard";
import { Link, match, path, useLocation } from "./router";
import { SessionContext, type ProjectSummary, type Session } from "./session-context";
import { storedToken, storeToken } from "./session";

export function App() {
  const [token, setToken] = useState<string | null>(() => storedToken());
  const [notice, setNotice] = useState<string | null>(null);
  const signOut = useCallback((message?: string) => {
    storeToken(null);
    setToken(null);
    setNotice(message ?? "You are signed out.");
  }, []);
  const consoleClient = useMemo(() => (token ? createConsoleClient(token, (reason) => signOut(`Signed out: ${reason}.`)) : null), [token, signOut]);
  useEffect(() => () => consoleClient?.dispose(), [consoleClient]);

  if (!consoleClient) {
    return (
      <SignIn
        notice={notice}
        onSignIn={(value) => {
          storeToken(value);
          setNotice(null);
          setToken(value);
        }}
      />
    );
  }
  return (
    <Provider value={consoleClient.client}>
      <Shell signOut={signOut} live={consoleClient.live} />
    </Provider>
  );
}

const ShellQuery = graphql(`
  query Shell {
    me {
      id
      email
      name
    }
    projects {
      id
      slug
      viewerRole
      organization {
        id
        slug
        plan
      }
      activeBreakGlassSession {
        id
        openedAt
        expiresAt
        justification
      }
    }
  }
`);

const PROJECT_ROUTES: [string, (p: Record<string, string>) => ReactNode][] = [
  ["/projects/:project", (p) => <OverviewPage project={p.project!} />],
  ["/projects/:project/history/:tenant/:environment", (p) => <HistoryPage project={p.project!} tenant={p.tenant!} environment={p.environment!} />],
  ["/projects/:project/compare/:tenant/:environment/:revision", (p) => <ComparePage project={p.project!} tenant={p.tenant!} environment={p.environment!} revision={p.revision!} />],
  ["/projects/:project/rollback", (p) => <WizardPage project={p.project!} />],
  ["/projects/:project/approvals", (p) => <ApprovalsPage project={p.project!} />],
  ["/projects/:project/break-glass", (p) => <BreakGlassPage project={p.project!} />],
  ["/projects/:project/audit", (p) => <AuditPage project={p.project!} />],
  ["/projects/:project/requests/:id", (p) => <RequestPage project={p.project!} id={p.id!} />],
];

const LIVE_TEXT = { idle: "", live: "Live updates on", reconnecting: "Live updates interrupted: reconnecting…" } as const;

function Shell({ signOut, live }: { signOut(message?: string): void; live: ConsoleClient["live"] }) {
  const [{ data, error, fetching }] = useQuery({ query: ShellQuery });
  const liveState = useSyncExternalStore(live.subscribe, live.get);
  const { pathname } = useLocation();

  // After each navigation, focus the new page's heading so keyboard and screen-reader users start there.
  useEffect(() => {
    const heading = document.getElementById("page-heading");
    if (heading && document.activeElement !== heading) heading.focus({ preventScroll: false });
  }, [pathname]);

  // Pages render at once, beside this query: a deep link does not wait for the header's data.
  const session: Session = useMemo(() => ({ me: data?.me ?? null, projects: (data?.projects as ProjectSummary[] | undefined) ?? null, signOut }), [data, signOut]);

  let page: ReactNode = null;
  let projectSlug: string | null = null;
  if (match("/", pathname)) page = <ProjectsPage />;
  for (const [pattern, render] of PROJECT_ROUTES) {
    const params = match(pattern, pathname);
    if (params) {
      projectSlug = params.project!;
      page = render(params);
    }
  }
  const project = projectSlug ? session.projects?.find((p) => p.slug === projectSlug) : undefined;

  return (
    <SessionContext.Provider value={session}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link href="/" className="brand">
          Rollback console
        </Link>
        {project ? (
          <nav aria-label="Project">
            <ul>
              <li>
                <Link href={path("projects", project.slug)} aria-current={pathname === path("projects", project.slug) ? "page" : undefined}>
                  {project.slug}: overview
                </Link>
              </li>
              <li>
                <Link href={path("projects", project.slug, "approvals")} aria-current={pathname.endsWith("/approvals") ? "page" : undefined}>
                  Approvals
                </Link>
              </li>
              <li>
                <Link href={path("projects", project.slug, "break-glass")} aria-current={pathname.endsWith("/break-glass") ? "page" : undefined}>
                  Break-glass
                </Link>
              </li>
              <li>
                <Link href={path("projects", project.slug, "audit")} aria-current={pathname.endsWith("/audit") ? "page" : undefined}>
                  Audit trail
                </Link>
              </li>
            </ul>
          </nav>
        ) : null}
        <div className="who" role="group" aria-label="Signed-in user">
          <span>
            {session.me ? (
              <>
                Signed in as <strong>{session.me.email}</strong>
              </>
            ) : fetching ? (
              "Signing in…"
            ) : null}
            {project ? (
              <>
                {" "}
                · role <strong>{project.viewerRole}</strong> in {project.slug}
              </>
            ) : null}
          </span>
          <span role="status" className={`live ${liveState}`}>
            {LIVE_TEXT[liveState]}
          </span>
          <a href="/explorer/">GraphQL explorer</a>
          <button type="button" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      {error ? <ErrorMessage error={error} prefix="Your projects could not be loaded" /> : null}
      <BreakGlassBanners projects={session.projects ?? []} />
      <main id="main">{page ?? <NotFound />}</main>
    </SessionContext.Provider>
  );
}
