import { PageHeading } from "../components/feedback";
import { Link, usePageTitle } from "../router";

export function NotFound() {
  usePageTitle("Page not found");
  return (
    <>
      <PageHeading>Page not found</PageHeading>
      <p>
        There is no console page at this address. <Link href="/">Go to your projects</Link>.
      </p>
    </>
  );
}
