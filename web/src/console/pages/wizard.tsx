import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { graphql } from "../../gql";
import type { RollbackMode } from "../../gql/graphql";
import { ErrorMessage, Loading, PageHeading } from "../components/feedback";
import { Revision } from "../components/values";
import { Link, navigate, path, useLocation, usePageTitle } from "../router";
import { roleRefusal } from "../session-context";
import { approvalOutcome, MODE_LABEL, PreviewStep, RevisionStep, ScopeStep, TargetStep, type TenantEnvironmentOption } from "./wizard-steps";

const WizardProject = graphql(`
  query WizardProject($project: String!) {
    project(slug: $project) {
      id
      slug
      viewerRole
      rollbackModes {
        mode
        allowed
        reason
        blastRadius
      }
      activeBreakGlassSession {
        id
        expiresAt
      }
      tenants {
        id
        slug
        environments {
          ...TenantEnvironmentStatus
        }
      }
    }
  }
`);

const WizardPreview = graphql(`
  query WizardPreview($input: RollbackInput!) {
    previewRollback(input: $input) {
      mode
      baseSha
      headSha
      targetSha
      blastRadius
      approvalRequired
      requiredApprovals
      breakGlassActive
      affectedServices
      impact {
        services
        bindings
        variables
        fields
        files
      }
      services {
        service
        changes {
          ...FieldChangeParts
        }
        files {
          path
          kind
          patch
        }
      }
      environmentChanges {
        ...FieldChangeParts
      }
      environmentFiles {
        path
        kind
        patch
      }
    }
  }
`);

const RequestRollback = graphql(`
  mutation RequestRollback($input: RollbackInput!, $idempotencyKey: String) {
    requestRollback(input: $input, idempotencyKey: $idempotencyKey) {
      id
      state
      breakGlass
      requiredApprovals
      approvals
    }
  }
`);

/** The product page's step titles, in order. */
export const STEPS = ["Select rollback scope", "Choose target tenant-environment", "Select the target revision", "Preview the rollback diff", "Submit rollback"] as const;

export function WizardPage({ project }: { project: string }) {
  usePageTitle(`Rollback wizard: ${project}`);
  const { search } = useLocation();
  const [step, setStep] = useState(0);
  const [mode, setMode] = useState<RollbackMode | null>(null);
  const [tenant, setTenant] = useState<string | null>(search.get("tenant"));
  const [environment, setEnvironment] = useState<string | null>(search.get("environment"));
  const [service, setService] = useState<string | null>(search.get("service"));
  const [revision, setRevision] = useState<string | null>(search.get("revision"));
  const [fields, setFields] = useState<string[]>([]);
  const [justification, setJustification] = useState("");
  const [revisionPages, setRevisionPages] = useState(1);
  const [stepError, setStepError] = useState<string | null>(null);
  // One key per wizard: a double submit or a retry after a network failure cannot create two requests.
  const idempotencyKey = useMemo(() => `console-${crypto.randomUUID()}`, []);
  const headingRef = useRef<HTMLHeadingElement>(null);

  const [{ data, error, fetching }] = useQuery({ query: WizardProject, variables: { project } });
  const p = data?.project;
  const options: TenantEnvironmentOption[] = useMemo(() => (p ? p.tenants.flatMap((t) => t.environments.map((te) => ({ tenant: t.slug, te }))) : []), [p]);
  const selectedTe = options.find((o) => o.tenant === tenant && o.te.name === environment)?.te;
  const needsService = mode === "SERVICE" || mode === "FIELD";

  const input = {
    project,
    tenant: tenant ?? "",
    environment: environment ?? "",
    mode: mode ?? "FULL",
    targetSha: revision,
    service: needsService ? service : null,
    fields: mode === "FIELD" ? fields : null,
  };
  const [preview, reexecutePreview] = useQuery({ query: WizardPreview, variables: { input }, pause: step < 3, requestPolicy: "network-only" });
  const [submission, submit] = useMutation(RequestRollback);

  useEffect(() => {
    headingRef.current?.focus();
  }, [step]);
  useEffect(() => setStepError(null), [step, mode, tenant, environment, service, revision, fields]);

  const submitRefusal = p ? roleRefusal(p.viewerRole, "DEPLOYER", p.slug) : null;

  const problemWith = (at: number): string | null => {
    if (at === 0 && !mode) return "Choose a rollback mode.";
    if (at === 1 && (!tenant || !environment)) return "Choose the tenant-environment to roll back.";
    if (at === 1 && needsService && !service) return `Choose the service for ${MODE_LABEL[mode!]} mode.`;
    if (at === 2 && !revision) return "Choose the revision to roll back to.";
    if (at === 2 && mode === "FIELD" && fields.length === 0) return "Select at least one field to revert: selected fields cannot be empty for field mode.";
    if (at === 3 && preview.data && preview.data.previewRollback.impact.files === 0) return "Nothing to roll back: this scope already matches the target revision.";
    if (at === 3 && !preview.data) return "The preview is not available; fix the error above or go back.";
    return null;
  };
  const next = () => {
    const problem = problemWith(step);
    if (problem) return setStepError(problem);
    setStep((s) => Math.min(s + 1, STEPS.length - 1));
  };

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (!justification.trim()) return setStepError("A justification is required: explain why the rollback is needed.");
    const result = await submit({ input: { ...input, justification: justification.trim() }, idempotencyKey });
    if (result.data) navigate(path("projects", project, "requests", result.data.requestRollback.id));
  };

  if (!data && fetching) return <Loading what="the rollback wizard" />;
  if (!p)
    return (
      <>
        <PageHeading>Rollback wizard</PageHeading>
        <ErrorMessage error={error ?? `Project “${project}” does not exist, or you have no role in it.`} />
      </>
    );

  return (
    <>
      <PageHeading>Rollback wizard: {project}</PageHeading>
      {submitRefusal ? (
        <p className="notice" role="note">
          You can walk through the steps and preview, but not submit: {submitRefusal}.
        </p>
      ) : null}
      <ol className="steps" aria-label="Wizard steps">
        {STEPS.map((title, i) => (
          <li key={title} aria-current={i === step ? "step" : undefined} className={i < step ? "done" : i === step ? "current" : ""}>
            {i < step ? (
              <button type="button" className="link" onClick={() => setStep(i)}>
                {i + 1}. {title}
                <span className="visually-hidden"> (done, go back to this step)</span>
              </button>
            ) : (
              <span>
                {i + 1}. {title}
              </span>
            )}
          </li>
        ))}
      </ol>
      <p className="wizard-choices">
        <span className="visually-hidden">Your choices so far: </span>
        Mode <strong>{mode ? MODE_LABEL[mode] : "—"}</strong> · tenant-environment <strong>{tenant && environment ? `${tenant}/${environment}` : "—"}</strong>
        {needsService ? (
          <>
            {" "}
            · service <strong>{service ?? "—"}</strong>
          </>
        ) : null}{" "}
        · target <Revision sha={revision} />
        {mode === "FIELD" && fields.length ? <> · fields {fields.join(", ")}</> : null}
      </p>
      <section className="wizard-step" aria-labelledby="step-title">
        <h2 id="step-title" ref={headingRef} tabIndex={-1}>
          {STEPS[step]}
        </h2>
        {step === 0 ? <ScopeStep modes={p.rollbackModes} mode={mode} onChange={setMode} /> : null}
        {step === 1 ? (
          <TargetStep
            project={project}
            options={options}
            tenant={tenant}
            environment={environment}
            needsService={needsService}
            service={service}
            onChange={(t, e) => {
              if (t !== tenant || e !== environment) setRevision(null);
              setTenant(t);
              setEnvironment(e);
            }}
            onService={(s) => {
              setService(s);
              setFields([]);
            }}
          />
        ) : null}
        {step === 2 && tenant && environment ? (
          <RevisionStep
            project={project}
            tenant={tenant}
            environment={environment}
            revision={revision}
            currentRevision={selectedTe?.currentRevision ?? null}
            pages={revisionPages}
            onMore={() => setRevisionPages((n) => n + 1)}
            onChange={(r) => {
              setRevision(r);
              setFields([]);
            }}
            fieldMode={mode === "FIELD"}
            service={service}
            fields={fields}
            onFields={setFields}
          />
        ) : null}
        {step === 3 ? (
          <>
            <PreviewStep
              preview={preview.data?.previewRollback}
              fetching={preview.fetching}
              error={preview.error}
              breakGlassExpiresAt={p.activeBreakGlassSession?.expiresAt ?? null}
            />
            <button type="button" onClick={() => reexecutePreview({ requestPolicy: "network-only" })} disabled={preview.fetching}>
              Refresh the preview
            </button>
          </>
        ) : null}
        {step === 4 && preview.data ? (
          <form onSubmit={onSubmit} aria-label="Submit rollback">
            <p className="outcome" id="outcome">
              {approvalOutcome(preview.data.previewRollback, p.activeBreakGlassSession?.expiresAt ?? null)}
            </p>
            <label htmlFor="justification">Justification</label>
            <textarea
              id="justification"
              required
              rows={3}
              maxLength={2000}
              value={justification}
              onChange={(e) => setJustification(e.target.value)}
              aria-describedby="justification-hint outcome"
            />
            <p id="justification-hint" className="hint">
              Why this rollback is needed; it goes into the commit message and the audit trail.
            </p>
            <ErrorMessage error={submission.error} prefix="The rollback was not submitted" />
            {stepError ? (
              <p role="alert" className="error">
                {stepError}
              </p>
            ) : null}
            <button type="submit" disabled={submission.fetching || submitRefusal !== null} aria-describedby={submitRefusal ? "submit-why" : undefined}>
              {submission.fetching ? "Submitting…" : "Submit rollback"}
            </button>
            {submitRefusal ? (
              <span id="submit-why" className="why-not">
                {submitRefusal}
              </span>
            ) : null}
          </form>
        ) : null}
      </section>
      {step !== 4 && stepError ? (
        <p role="alert" className="error">
          {stepError}
        </p>
      ) : null}
      <div className="wizard-nav">
        {step > 0 ? (
          <button type="button" onClick={() => setStep((s) => s - 1)}>
            Back
          </button>
        ) : (
          <Link href={tenant && environment ? path("projects", project, "history", tenant, environment) : path("projects", project)}>Cancel</Link>
        )}
        {step < STEPS.length - 1 ? (
          <button type="button" className="primary" onClick={next}>
            Next
          </button>
        ) : null}
      </div>
    </>
  );
}
