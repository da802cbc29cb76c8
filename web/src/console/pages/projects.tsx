import { Empty, Loading, PageHeading } from "../components/feedback";
import { Link, path, usePageTitle } from "../router";
import { useSession } from "../session-context";

export function ProjectsPage() {
  usePageTitle("Projects");
  const { projects, me } = useSession();
  return (
    <>
      <PageHeading>Projects</PageHeading>
      {!projects || !me ? (
        <Loading what="your projects" />
      ) : projects.length === 0 ? (
        <Empty>
          {me.email} has no role in any project yet. An ADMIN can add you with <code>npm run cli -- user create</code>.
        </Empty>
      ) : (
        <table>
          <caption>Projects you have a role in</caption>
          <thead>
            <tr>
              <th scope="col">Project</th>
              <th scope="col">Organization</th>
              <th scope="col">Plan</th>
              <th scope="col">Your role</th>
            </tr>
          </thead>
          <tbody>
            {projects.map((p) => (
              <tr key={p.id}>
                <th scope="row">
                  <Link href={path("projects", p.slug)}>{p.slug}</Link>
                </th>
                <td>{p.organization.slug}</td>
                <td>{p.organization.plan}</td>
                <td>{p.viewerRole}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
