import { WebhookEvent } from "../../entities/webhook.js";
import { repositoryUrl } from "../git/layout.js";
import type { GitPushEvent } from "../services/events.js";
import { numericId, type DeliveryContext } from "./delivery-event.js";

/**
 * GitHub `push` and `ping` event payloads, complete enough for the published webhook schemas
 * (@octokit/webhooks-schemas) and for the receivers that parse them strictly: Argo CD's
 * /api/webhook (go-playground/webhooks, which wants integer created_at/pushed_at) and Flux's
 * notification-controller (go-github). Argo CD matches repository.html_url against each
 * application's repoURL, so both html_url and clone_url are the server's own Git URL.
 */

const ZERO_SHA = "0".repeat(40);

/**
 * GitHub API links every repository object carries. Receivers ignore them; here they sit below
 * the repository URL (and do not resolve), so they stay well-formed URIs and templates.
 */
const REPOSITORY_LINKS: Record<string, string> = {
  forks_url: "/forks",
  keys_url: "/keys{/key_id}",
  collaborators_url: "/collaborators{/collaborator}",
  teams_url: "/teams",
  hooks_url: "/hooks",
  issue_events_url: "/issues/events{/number}",
  events_url: "/events",
  assignees_url: "/assignees{/user}",
  branches_url: "/branches{/branch}",
  tags_url: "/tags",
  blobs_url: "/git/blobs{/sha}",
  git_tags_url: "/git/tags{/sha}",
  git_refs_url: "/git/refs{/sha}",
  trees_url: "/git/trees{/sha}",
  statuses_url: "/statuses/{sha}",
  languages_url: "/languages",
  stargazers_url: "/stargazers",
  contributors_url: "/contributors",
  subscribers_url: "/subscribers",
  subscription_url: "/subscription",
  commits_url: "/commits{/sha}",
  git_commits_url: "/git/commits{/sha}",
  comments_url: "/comments{/number}",
  issue_comment_url: "/issues/comments{/number}",
  contents_url: "/contents/{+path}",
  compare_url: "/compare/{base}...{head}",
  merges_url: "/merges",
  archive_url: "/{archive_format}{/ref}",
  downloads_url: "/downloads",
  issues_url: "/issues{/number}",
  pulls_url: "/pulls{/number}",
  milestones_url: "/milestones{/number}",
  notifications_url: "/notifications{?since,all,participating}",
  labels_url: "/labels{/name}",
  releases_url: "/releases{/id}",
  deployments_url: "/deployments",
};

function account(base: string, login: string, type: "User" | "Organization" | "Bot") {
  const home = `${base}/${encodeURIComponent(login)}`;
  return {
    login,
    id: numericId(`${type}:${login}`),
    node_id: Buffer.from(`${type}:${login}`).toString("base64url"),
    avatar_url: `${home}/avatar`,
    gravatar_id: "",
    url: home,
    html_url: home,
    followers_url: `${home}/followers`,
    following_url: `${home}/following{/other_user}`,
    gists_url: `${home}/gists{/gist_id}`,
    starred_url: `${home}/starred{/owner}{/repo}`,
    subscriptions_url: `${home}/subscriptions`,
    organizations_url: `${home}/orgs`,
    repos_url: `${home}/repos`,
    events_url: `${home}/events{/privacy}`,
    received_events_url: `${home}/received_events`,
    type,
    site_admin: false,
  };
}

/** The server as the account that pushed (the commit's author is the pusher). */
function sender(ctx: DeliveryContext) {
  return account(ctx.publicUrl, "rollback-server", "Bot");
}

function repository(ctx: DeliveryContext, pushedAt: Date | null) {
  const url = repositoryUrl(ctx.publicUrl, ctx.project.slug);
  const links = Object.fromEntries(Object.entries(REPOSITORY_LINKS).map(([key, suffix]) => [key, `${url}${suffix}`]));
  const createdAt = Math.floor(new Date(ctx.webhook.createdAt).getTime() / 1000);
  return {
    id: numericId(ctx.project.id),
    node_id: Buffer.from(`Repository:${ctx.project.id}`).toString("base64url"),
    name: ctx.project.slug,
    full_name: `${ctx.project.organization}/${ctx.project.slug}`,
    private: true,
    owner: account(ctx.publicUrl, ctx.project.organization, "Organization"),
    html_url: url,
    description: null,
    fork: false,
    url,
    ...links,
    // Unix seconds, as GitHub sends them in push events (and go-playground/webhooks requires).
    created_at: createdAt,
    updated_at: (pushedAt ?? ctx.occurredAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
    pushed_at: pushedAt ? Math.floor(pushedAt.getTime() / 1000) : null,
    git_url: url,
    ssh_url: url,
    clone_url: url,
    svn_url: url,
    homepage: null,
    size: 0,
    stargazers_count: 0,
    watchers_count: 0,
    language: null,
    has_issues: false,
    has_projects: false,
    has_downloads: false,
    has_wiki: false,
    has_pages: false,
    forks_count: 0,
    mirror_url: null,
    archived: false,
    open_issues_count: 0,
    license: null,
    forks: 0,
    open_issues: 0,
    watchers: 0,
    default_branch: "main",
    is_template: false,
    web_commit_signoff_required: false,
    topics: [],
    visibility: "private",
    custom_properties: {},
  };
}

export function githubPushPayload(ctx: DeliveryContext, push: GitPushEvent) {
  const url = repositoryUrl(ctx.publicUrl, ctx.project.slug);
  const date = new Date(push.date);
  const person = { name: push.author.name, email: push.author.email };
  const commit = {
    id: push.after,
    tree_id: push.tree,
    distinct: true,
    message: push.message,
    timestamp: date.toISOString().replace(/\.\d{3}Z$/, "Z"),
    url: `${url}/commit/${push.after}`,
    author: person,
    committer: person,
    added: push.added,
    removed: push.removed,
    modified: push.modified,
  };
  const before = push.before ?? ZERO_SHA;
  return {
    ref: `refs/heads/${push.branch}`,
    before,
    after: push.after,
    created: push.before === null,
    deleted: false,
    forced: false,
    base_ref: null,
    compare: `${url}/compare/${before.slice(0, 12)}...${push.after.slice(0, 12)}`,
    commits: [commit],
    head_commit: commit,
    repository: repository(ctx, date),
    pusher: person,
    sender: sender(ctx),
  };
}

/** GitHub's `ping` event: what pingWebhook sends a GITHUB_PUSH webhook (Argo CD and Flux answer it with 200). */
export function githubPingPayload(ctx: DeliveryContext) {
  const hookId = numericId(ctx.webhook.id);
  const hookUrl = `${ctx.publicUrl}/webhooks/${ctx.webhook.id}`;
  const created = new Date(ctx.webhook.createdAt).toISOString().replace(/\.\d{3}Z$/, "Z");
  return {
    zen: "Rollbacks are commits too.",
    hook_id: hookId,
    hook: {
      type: "Repository",
      id: hookId,
      name: "web",
      active: ctx.webhook.active,
      events: ctx.webhook.events.includes(WebhookEvent.GIT_PUSH) ? ["push"] : [],
      config: { content_type: "json", url: ctx.webhook.url, insecure_ssl: "0" },
      updated_at: created,
      created_at: created,
      url: hookUrl,
      ping_url: `${hookUrl}/pings`,
      deliveries_url: `${hookUrl}/deliveries`,
    },
    repository: repository(ctx, null),
    sender: sender(ctx),
  };
}
