/** The API token lives in sessionStorage: it survives reloads of this tab, and closing the tab forgets it. */
const TOKEN_KEY = "rollback-console.token";

export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function storeToken(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled (private mode): the session lasts until the page is left.
  }
}
