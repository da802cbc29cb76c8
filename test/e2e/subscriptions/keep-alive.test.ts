import WebSocket from "ws";
import { describe, expect, it } from "vitest";
import { tokenOf } from "../../helpers/demo.js";
import { ROLLBACK_REQUEST_UPDATED } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";

/** Long-lived subscriptions are kept alive with pings and closed properly (1001) when the server shuts down. */

describe("long-lived subscriptions: keep-alive and shutdown", () => {
  const t = useTestServer({ env: { WS_KEEPALIVE_SECONDS: "1" } });

  it("the server pings idle subscribers and closes them with 1001 when it shuts down", async () => {
    const socket = new WebSocket(t.wsUrl, "graphql-transport-ws");
    const messages: { type: string; id?: string; payload?: unknown }[] = [];
    const closed = new Promise<number>((resolve) => socket.on("close", (code) => resolve(code)));
    const pinged = new Promise<void>((resolve) => socket.once("ping", () => resolve()));
    const acked = new Promise<void>((resolve, reject) => {
      socket.on("message", (data) => {
        const msg = JSON.parse((data as Buffer).toString("utf8")) as { type: string };
        messages.push(msg);
        if (msg.type === "connection_ack") resolve();
      });
      socket.once("error", reject);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${tokenOf(t, "victor")}` } }));
    await acked;
    socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: ROLLBACK_REQUEST_UPDATED, variables: { p: "demo" } } }));

    await pinged; // WebSocket-level keep-alive ping (answered automatically by the client)
    expect(socket.readyState).toBe(WebSocket.OPEN);
    expect(messages.filter((m) => m.type === "error")).toEqual([]);

    await t.server.stop();
    expect(await closed).toBe(1001);
  });
});
