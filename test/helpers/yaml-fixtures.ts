/** Service files as people write them by hand, for the FIELD-mode patch (unit and end-to-end). */

/**
 * A hand-written values.yaml with comments and unusual formatting: a document marker, comments
 * after keys, odd spacing, quoted scalars of both kinds, a flow mapping, an indentless and an
 * over-indented sequence, a folded block scalar and a multi-line flow sequence.
 */
export const TRICKY_VALUES = `# api-gateway values: hand-edited, keep the comments!
---
image:   # the container image
  repository: "registry.example.com/acme/api-gateway"
  tag: 'v1.4.2'    # pinned after INC-1234

replicas:   3   # odd spacing on purpose
port: 8080
resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: "500m", memory: 512Mi}}
env:
- name: LOG_FORMAT      # an indentless sequence
  value: json
- name: SERVICE_NAME
  value: "api-gateway"
hosts:
    - a.example.com
    - b.example.com   # over-indented
    - c.example.com
probes:
  path: /healthz   # readiness
annotations:
  description: >-
    folded text
    over two lines
tolerations: [
  spot, arm64,
  gpu
]
`;

export const TRICKY_BINDINGS = `# bindings, hand-edited
kustomize:
  path:   "services/api-gateway/kustomize"   # overlay
manifests: [base/deployment.yaml, base/service.yaml]
labels: {team: platform}
`;

export const TRICKY_VARIABLES = `# Service-scoped HQ variables
LOG_LEVEL:   info   # raise to debug during incidents
FEATURE_NEW_CHECKOUT: "false"
`;

/** api-gateway's hand-written files (TRICKY_VALUES, TRICKY_BINDINGS, TRICKY_VARIABLES) as the files of `service`. */
export function trickyService(service: string): Record<string, string> {
  return {
    [`services/${service}/values.yaml`]: TRICKY_VALUES,
    [`services/${service}/bindings.yaml`]: TRICKY_BINDINGS,
    [`services/${service}/variables.yaml`]: TRICKY_VARIABLES,
  };
}

/** A plain service in the demo's shape. */
export function plainService(service: string, tag = "v1.0.0", replicas = 1): Record<string, string> {
  return {
    [`services/${service}/values.yaml`]: `# ${service} workload values
image:
  repository: registry.example.com/acme/${service}
  tag: "${tag}"
replicas: ${replicas}
port: 8080
env:
  - name: LOG_FORMAT
    value: json
`,
    [`services/${service}/bindings.yaml`]: `kustomize:
  path: services/${service}/kustomize
manifests:
  - base/deployment.yaml
labels:
  team: platform
`,
    [`services/${service}/variables.yaml`]: `LOG_LEVEL: info
FEATURE_NEW_CHECKOUT: "false"
`,
  };
}

export function envYaml(tenant: string, env: string, region = "eu-west-1"): Record<string, string> {
  return {
    "env.yaml": `# Environment-level configuration for ${tenant}/${env}
cluster: ${env}-eu-1
namespace: ${tenant}-${env}
variables:
  REGION: ${region}
`,
  };
}
