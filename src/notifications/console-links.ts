import type { ConsoleLinks } from "./slack-payload.js";

/** The web console's pages (served at / by the server itself, under PUBLIC_URL), for links in chat messages. */
export const consoleLinks: ConsoleLinks = (kind, ctx, ids) => {
  const at = (...segments: string[]) => `${ctx.publicUrl}/${["projects", ctx.project.slug, ...segments].map(encodeURIComponent).join("/")}`;
  switch (kind) {
    case "rollbackRequest":
      return at("requests", ids.id!);
    case "deployment":
    case "environment":
      return at("history", ids.tenant!, ids.environment!);
  }
};
