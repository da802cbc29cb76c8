import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { graphql } from "../../gql";
import { ErrorMessage, Loading, PageHeading } from "../components/feedback";
import { Time } from "../components/values";
import { usePageTitle } from "../router";
import { roleRefusal } from "../session-context";

const BreakGlassQuery = graphql(`
  query BreakGlass($project: String!) {
    project(slug: $project) {
      id
      slug
      viewerRole
      activeBreakGlassSession {
        id
        justification
        openedAt
        expiresAt
        user {
          id
          email
        }
      }
    }
  }
`);

const OpenBreakGlass = graphql(`
  mutation OpenBreakGlass($project: String!, $justification: String!, $durationMinutes: Int) {
    openBreakGlassSession(project: $project, justification: $justification, durationMinutes: $durationMinutes) {
      id
      expiresAt
    }
  }
`);

const CloseBreakGlass = graphql(`
  mutation CloseBreakGlass($id: ID!) {
    closeBreakGlassSession(id: $id) {
      id
      closedAt
    }
  }
`);

export function BreakGlassPage({ project }: { project: string }) {
  usePageTitle(`Break-glass: ${project}`);
  const [{ data, error, fetching }] = useQuery({ query: BreakGlassQuery, variables: { project } });
  const [opened, open] = useMutation(OpenBreakGlass);
  const [closed, close] = useMutation(CloseBreakGlass);
  const [justification, setJustification] = useState("");
  const [minutes, setMinutes] = useState("60");
  const p = data?.project;
  const session = p?.activeBreakGlassSession;
  const refusal = p ? roleRefusal(p.viewerRole, "DEPLOYER", p.slug) : null;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await open({ project, justification: justification.trim(), durationMinutes: Number(minutes) });
    if (!result.error) setJustification("");
  };

  return (
    <>
      <PageHeading>Break-glass: {project}</PageHeading>
      <p>
        During a critical incident, a break-glass session lets <em>your</em> rollbacks in {project} skip the approval requirement. It never bypasses plan gates, roles or
        authentication, and every action under it is flagged in the audit trail for the post-incident review.
      </p>
      {!data && fetching ? <Loading what="break-glass sessions" /> : null}
      <ErrorMessage error={error} />
      {session ? (
        <section aria-labelledby="open-session" className="break-glass-open">
          <h2 id="open-session">Your open session</h2>
          <dl className="status-summary">
            <div>
              <dt>Session</dt>
              <dd>
                <code>{session.id}</code>
              </dd>
            </div>
            <div>
              <dt>Justification</dt>
              <dd>{session.justification}</dd>
            </div>
            <div>
              <dt>Opened</dt>
              <dd>
                <Time iso={session.openedAt} />
              </dd>
            </div>
            <div>
              <dt>Expires</dt>
              <dd>
                <Time iso={session.expiresAt} />
              </dd>
            </div>
          </dl>
          <button type="button" className="danger" onClick={() => close({ id: session.id })} disabled={closed.fetching}>
            Close break-glass session
          </button>
          <ErrorMessage error={closed.error} prefix="The session was not closed" />
        </section>
      ) : p ? (
        <form onSubmit={submit} aria-labelledby="open-heading">
          <h2 id="open-heading">Open a break-glass session</h2>
          <label htmlFor="bg-justification">Justification</label>
          <textarea id="bg-justification" rows={3} required value={justification} onChange={(e) => setJustification(e.target.value)} disabled={refusal !== null} maxLength={2000} />
          <label htmlFor="bg-minutes">Duration (minutes)</label>
          <input id="bg-minutes" type="number" min={1} step={1} value={minutes} onChange={(e) => setMinutes(e.target.value)} disabled={refusal !== null} required />
          <ErrorMessage error={opened.error} prefix="The session was not opened" />
          <button type="submit" className="danger" disabled={opened.fetching || refusal !== null} aria-describedby={refusal ? "bg-why" : undefined}>
            Open break-glass session
          </button>
          {refusal ? (
            <span id="bg-why" className="why-not">
              {refusal}
            </span>
          ) : null}
        </form>
      ) : null}
    </>
  );
}
