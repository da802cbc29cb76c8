// Monaco's editor, JSON and GraphQL workers, bundled by Vite: nothing is fetched from a CDN.
import "graphiql/setup-workers/vite";
import "graphiql/style.css";
import "./explorer.css";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { createClient } from "graphql-ws";
import { StrictMode, useEffect, useMemo, useState, type FormEvent } from "react";
import { createRoot } from "react-dom/client";
import { storedToken, storeToken } from "../console/session";

const DEFAULT_QUERY = `# The rollback server's API. Docs: the book icon on the left.
# Your token (above) is sent as Authorization: Bearer, and as the
# graphql-ws connection's authorization for subscriptions.

query Me {
  me { email }
  projects { slug viewerRole }
}
`;

function Explorer() {
  const [token, setToken] = useState<string | null>(() => storedToken());
  const [draft, setDraft] = useState("");
  const fetcher = useMemo(() => {
    const authorization: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const wsClient = createClient({
      url: window.location.origin.replace(/^http/, "ws") + "/graphql",
      connectionParams: authorization,
      lazy: true,
      retryAttempts: 3,
    });
    return { wsClient, fetch: createGraphiQLFetcher({ url: "/graphql", headers: authorization, wsClient, enableIncrementalDelivery: false }) };
  }, [token]);
  useEffect(() => () => void fetcher.wsClient.dispose(), [fetcher]);

  const useToken = (event: FormEvent) => {
    event.preventDefault();
    const value = draft.trim() || null;
    storeToken(value);
    setToken(value);
    setDraft("");
  };

  return (
    <div className="explorer">
      <header className="explorer-bar">
        <h1>GraphQL explorer</h1>
        <form onSubmit={useToken} aria-label="Authentication">
          <label htmlFor="explorer-token">API token</label>
          <input
            id="explorer-token"
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            placeholder={token ? "token set (paste another to switch)" : "paste a token"}
          />
          <button type="submit">Use token</button>
          {token ? (
            <button
              type="button"
              onClick={() => {
                storeToken(null);
                setToken(null);
              }}
            >
              Forget token
            </button>
          ) : null}
        </form>
        <p role="status">{token ? "Token set: sent as Authorization: Bearer on every request and subscription." : "No token: requests are sent without credentials."}</p>
        <a href="/">Console</a>
      </header>
      <main className="explorer-main">
        {/* A new token is a new fetcher: GraphiQL reloads the schema with it. */}
        <GraphiQL key={token ?? "anonymous"} fetcher={fetcher.fetch} defaultQuery={DEFAULT_QUERY} isHeadersEditorEnabled={false} />
      </main>
    </div>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <Explorer />
  </StrictMode>,
);
