import type { IncomingMessage, ServerResponse } from "node:http";
import type { App } from "../app.js";

/** Serves each project's repository read-only over Git smart HTTP at /git/<project>.git. */
export class GitHttpBackend {
  constructor(private readonly app: App) {}

  async handle(_req: IncomingMessage, res: ServerResponse, _url: URL): Promise<void> {
    void this.app;
    res.statusCode = 501;
    res.end("not implemented yet\n");
  }
}
