import type { CombinedError } from "@urql/core";
import type { ReactNode } from "react";
import { apiErrors } from "../format";

/** An API error where the action was taken: its code and message, announced to screen readers. */
export function ErrorMessage({ error, prefix }: { error: CombinedError | Error | string | null | undefined; prefix?: string }) {
  const errors = apiErrors(error);
  if (errors.length === 0) return null;
  return (
    <div role="alert" className="error">
      {errors.map((e, i) => (
        <p key={i}>
          {prefix ? `${prefix}: ` : ""}
          {e.code ? <strong>{e.code}</strong> : null}
          {e.code ? " " : ""}
          {e.message}
        </p>
      ))}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p role="status" className="loading">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** The page's main heading: focused after each navigation so screen readers announce the new page. */
export function PageHeading({ children }: { children: ReactNode }) {
  return (
    <h1 id="page-heading" tabIndex={-1}>
      {children}
    </h1>
  );
}

/** Text for assistive technology only (e.g. why a button is disabled, next to it). */
export function VisuallyHidden({ id, children }: { id?: string; children: ReactNode }) {
  return (
    <span id={id} className="visually-hidden">
      {children}
    </span>
  );
}
