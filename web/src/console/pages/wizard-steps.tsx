import { useQuery } from "urql";
import { graphql } from "../../gql";
import type { RollbackMode, TenantEnvironmentStatusFragment, WizardPreviewQuery } from "../../gql/graphql";
import { ChangeSet, ImpactCounts } from "../components/diff";
import { Empty, ErrorMessage, Loading } from "../components/feedback";
import { HistoryChunkQuery } from "./history";
import { Badge, Revision, Time } from "../components/values";
import { formatRelative, formatValue, shortSha } from "../format";

export const MODE_LABEL: Record<RollbackMode, string> = { FULL: "Full", SERVICE: "Service", FIELD: "Field-Level" };

const MODE_EXPLAINED: Record<RollbackMode, string> = {
  FULL: "Reverts the entire tenant-environment: every service's image tags and configuration, all bindings, HQ variables and environment-level config. Fastest, but may revert healthy services alongside the broken one.",
  SERVICE: "Reverts one service (its values, bindings, service-scoped variables and rendered manifest); every other service stays at its current revision.",
  FIELD: "Reverts only the fields you select in one service (e.g. just the image tag); everything else keeps its current value. Surgical, but you need to know the cause.",
};

export interface ModeOption {
  mode: RollbackMode;
  allowed: boolean;
  reason?: string | null;
  blastRadius: string;
}

export function ScopeStep({ modes, mode, onChange }: { modes: ModeOption[]; mode: RollbackMode | null; onChange(mode: RollbackMode): void }) {
  return (
    <fieldset className="choices">
      <legend>Rollback mode</legend>
      {modes.map((m) => (
        <div key={m.mode} className={`choice ${m.allowed ? "" : "disabled"}`}>
          <input
            type="radio"
            id={`mode-${m.mode}`}
            name="mode"
            value={m.mode}
            checked={mode === m.mode}
            disabled={!m.allowed}
            onChange={() => onChange(m.mode)}
            aria-describedby={`mode-${m.mode}-about${m.allowed ? "" : ` mode-${m.mode}-why`}`}
          />
          <label htmlFor={`mode-${m.mode}`}>{MODE_LABEL[m.mode]}</label>
          <p id={`mode-${m.mode}-about`}>
            <strong>Blast radius: {m.blastRadius.toLowerCase()}.</strong> {MODE_EXPLAINED[m.mode]}
          </p>
          {m.allowed ? null : (
            <p id={`mode-${m.mode}-why`} className="why-not">
              Not available: {m.reason}
            </p>
          )}
        </div>
      ))}
    </fieldset>
  );
}

export interface TenantEnvironmentOption {
  tenant: string;
  te: TenantEnvironmentStatusFragment;
}

const WizardServices = graphql(`
  query WizardServices($project: String!, $tenant: String!, $environment: String!) {
    tenantEnvironment(project: $project, tenant: $tenant, environment: $environment) {
      id
      services {
        name
      }
    }
  }
`);

export function TargetStep(props: {
  project: string;
  options: TenantEnvironmentOption[];
  tenant: string | null;
  environment: string | null;
  needsService: boolean;
  service: string | null;
  onChange(tenant: string, environment: string): void;
  onService(service: string | null): void;
}) {
  const { options, tenant, environment, needsService, service } = props;
  const [{ data, error, fetching }] = useQuery({
    query: WizardServices,
    variables: { project: props.project, tenant: tenant ?? "", environment: environment ?? "" },
    pause: !needsService || !tenant || !environment,
  });
  return (
    <>
      <fieldset className="choices">
        <legend>Tenant-environment</legend>
        {options.map(({ tenant: t, te }) => {
          const id = `te-${t}-${te.name}`;
          return (
            <div key={te.id} className="choice">
              <input
                type="radio"
                id={id}
                name="tenant-environment"
                checked={tenant === t && environment === te.name}
                onChange={() => props.onChange(t, te.name)}
                aria-describedby={`${id}-state`}
              />
              <label htmlFor={id}>
                {t} / {te.name}
              </label>
              <p id={`${id}-state`}>
                revision <Revision sha={te.currentRevision} /> · newest deployment <Badge value={te.latestDeployment?.status} /> · agent <Badge value={te.sync.agent} /> · sync{" "}
                <Badge value={te.sync.state} /> · health <Badge value={te.sync.health} /> · drift {te.sync.drift.length}
              </p>
            </div>
          );
        })}
      </fieldset>
      {needsService && tenant && environment ? (
        <div className="field">
          <label htmlFor="service">Service</label>
          <select id="service" value={service ?? ""} onChange={(e) => props.onService(e.target.value || null)} aria-busy={fetching}>
            <option value="">Choose a service…</option>
            {(data?.tenantEnvironment?.services ?? []).map((s) => (
              <option key={s.name} value={s.name}>
                {s.name}
              </option>
            ))}
          </select>
          <ErrorMessage error={error} />
        </div>
      ) : null}
    </>
  );
}

const WizardFields = graphql(`
  query WizardFields($project: String!, $tenant: String!, $environment: String!, $target: String!) {
    compareRevisions(project: $project, tenant: $tenant, environment: $environment, target: $target) {
      services {
        service
        changes {
          ...FieldChangeParts
        }
      }
    }
  }
`);

export function RevisionStep(props: {
  project: string;
  tenant: string;
  environment: string;
  revision: string | null;
  currentRevision: string | null;
  pages: number;
  onMore(): void;
  onChange(revision: string): void;
  fieldMode: boolean;
  service: string | null;
  fields: string[];
  onFields(fields: string[]): void;
}) {
  const { project, tenant, environment, revision } = props;
  const [{ data, error, fetching }] = useQuery({ query: HistoryChunkQuery, variables: { project, tenant, environment, first: 50 * props.pages, after: null } });
  const rows = data?.deploymentHistory.nodes ?? [];
  const selectedShown = rows.some((r) => r.revision === revision);
  return (
    <>
      {revision && !selectedShown && rows.length > 0 ? (
        <p>
          Selected: <Revision sha={revision} /> (further down the history).
        </p>
      ) : null}
      {!data && fetching ? <Loading what="the history" /> : null}
      <ErrorMessage error={error} />
      {data ? (
        <fieldset className="choices revisions">
          <legend>Target revision (newest first)</legend>
          {rows.map((row) => {
            const id = `rev-${row.revision}`;
            return (
              <div key={row.id} className="choice">
                <input
                  type="radio"
                  id={id}
                  name="revision"
                  checked={revision === row.revision}
                  disabled={row.revision === props.currentRevision}
                  onChange={() => props.onChange(row.revision)}
                  aria-describedby={`${id}-about`}
                />
                <label htmlFor={id}>
                  <code>{row.shortRevision}</code> {row.summary}
                </label>
                <p id={`${id}-about`}>
                  <Time iso={row.deployedAt} /> by {row.author.email} · {row.source.toLowerCase()} · <Badge value={row.status} />
                  {row.revision === props.currentRevision ? " · current revision (nothing to roll back to)" : ""}
                </p>
              </div>
            );
          })}
          {rows.length === 0 ? <Empty>No deployments yet.</Empty> : null}
        </fieldset>
      ) : null}
      {data?.deploymentHistory.pageInfo.hasNextPage ? (
        <button type="button" onClick={props.onMore}>
          Load more revisions
        </button>
      ) : null}
      {props.fieldMode && revision && props.service ? <FieldPicker {...props} revision={revision} service={props.service} /> : null}
    </>
  );
}

function FieldPicker(props: { project: string; tenant: string; environment: string; revision: string; service: string; fields: string[]; onFields(fields: string[]): void }) {
  const [{ data, error, fetching }] = useQuery({
    query: WizardFields,
    variables: { project: props.project, tenant: props.tenant, environment: props.environment, target: props.revision },
  });
  const changes = data?.compareRevisions.services.find((s) => s.service === props.service)?.changes ?? [];
  const toggle = (selector: string, on: boolean) => props.onFields(on ? [...props.fields, selector] : props.fields.filter((f) => f !== selector));
  return (
    <fieldset className="choices">
      <legend>Fields of {props.service} to revert</legend>
      {!data && fetching ? <Loading what="the fields that differ" /> : null}
      <ErrorMessage error={error} />
      {data && changes.length === 0 ? (
        <Empty>
          No field of {props.service} differs between the current revision and {shortSha(props.revision)}.
        </Empty>
      ) : null}
      {changes.map((c) => {
        const selector = c.selector ?? `${c.file}:${c.path}`;
        const id = `field-${selector}`;
        return (
          <div key={selector} className="choice">
            <input type="checkbox" id={id} checked={props.fields.includes(selector)} onChange={(e) => toggle(selector, e.target.checked)} />
            <label htmlFor={id}>
              <code>{selector}</code>: {formatValue(c.before)} → {formatValue(c.after)}
            </label>
          </div>
        );
      })}
    </fieldset>
  );
}

export type Preview = WizardPreviewQuery["previewRollback"];

export function approvalOutcome(preview: Preview, breakGlassExpiresAt: string | null): string {
  if (preview.approvalRequired && preview.breakGlassActive) {
    return `Approval is bypassed by your open break-glass session${breakGlassExpiresAt ? ` (expires ${formatRelative(breakGlassExpiresAt)})` : ""}: the rollback executes as soon as you submit, and is flagged break-glass in the audit trail.`;
  }
  if (preview.approvalRequired) {
    return `This rollback waits for ${preview.requiredApprovals} approval${preview.requiredApprovals === 1 ? "" : "s"} (APPROVER or ADMIN, not you) before it executes.`;
  }
  return "No approval required: the rollback executes as soon as you submit.";
}

export function PreviewStep({
  preview,
  fetching,
  error,
  breakGlassExpiresAt,
}: {
  preview: Preview | undefined;
  fetching: boolean;
  error: Parameters<typeof ErrorMessage>[0]["error"];
  breakGlassExpiresAt: string | null;
}) {
  if (!preview && fetching) return <Loading what="the preview" />;
  if (!preview) return <ErrorMessage error={error} prefix="Preview failed" />;
  return (
    <>
      <ErrorMessage error={error} />
      <dl className="status-summary">
        <div>
          <dt>Blast radius</dt>
          <dd>{preview.blastRadius.toLowerCase()}</dd>
        </div>
        <div>
          <dt>Affected services</dt>
          <dd>{preview.affectedServices.length ? preview.affectedServices.join(", ") : "none"}</dd>
        </div>
        <div>
          <dt>From → to</dt>
          <dd>
            <Revision sha={preview.baseSha} /> → <Revision sha={preview.targetSha} />
          </dd>
        </div>
        <div>
          <dt>Approval</dt>
          <dd>{approvalOutcome(preview, breakGlassExpiresAt)}</dd>
        </div>
      </dl>
      <h3>Impact summary</h3>
      <ImpactCounts impact={preview.impact} />
      <ChangeSet
        services={preview.services}
        environmentChanges={preview.environmentChanges}
        environmentFiles={preview.environmentFiles}
        beforeLabel="Now"
        afterLabel="After rollback"
      />
    </>
  );
}
