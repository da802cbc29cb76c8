import { Client, fetchExchange } from "@urql/core";
import { useState, type FormEvent } from "react";
import { graphql } from "../../gql";
import { ErrorMessage } from "../components/feedback";
import { usePageTitle } from "../router";

const WhoAmI = graphql(`
  query WhoAmI {
    me {
      id
      email
    }
  }
`);

/** Checks the token against the API before keeping it, so a typo is reported here and not on the next page. */
export function SignIn({ notice, onSignIn }: { notice: string | null; onSignIn(token: string): void }) {
  usePageTitle("Sign in");
  const [token, setToken] = useState("");
  const [error, setError] = useState<Parameters<typeof ErrorMessage>[0]["error"]>(null);
  const [checking, setChecking] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const value = token.trim();
    if (!value) {
      setError("Paste your API token first.");
      return;
    }
    setChecking(true);
    setError(null);
    const probe = new Client({ url: "/graphql", preferGetMethod: false, exchanges: [fetchExchange], fetchOptions: { headers: { authorization: `Bearer ${value}` } } });
    const result = await probe.query(WhoAmI, {}, { requestPolicy: "network-only" }).toPromise();
    setChecking(false);
    if (result.error || !result.data) {
      setError(result.error ?? "The server did not answer.");
      return;
    }
    onSignIn(value);
  };

  return (
    <main id="main" className="sign-in">
      <h1 id="page-heading" tabIndex={-1}>
        Rollback console
      </h1>
      <p>Sign in with your API token to see deployment history, roll back and review rollback requests.</p>
      {notice ? (
        <p role="status" className="notice">
          {notice}
        </p>
      ) : null}
      <form onSubmit={submit} aria-label="Sign in">
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-describedby="token-hint"
          aria-invalid={error ? true : undefined}
          required
        />
        <p id="token-hint" className="hint">
          Kept in this browser tab only (session storage) and sent as <code>Authorization: Bearer</code>. Create one with <code>npm run cli -- token create</code>; the demo's are
          in <code>data/demo-tokens.json</code>.
        </p>
        <ErrorMessage error={error} prefix="Sign-in failed" />
        <button type="submit" disabled={checking}>
          {checking ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
