import WebSocket from "ws";
import { describe, expect, it } from "vitest";
import { tokenOf } from "../../helpers/demo.js";
import { rawRequest } from "../../helpers/http.js";
import { useTestServer, type TestServer } from "../../helpers/server.js";

/** Bodies and WebSocket messages past the size limit are refused with an answer a GraphQL client can read. */

function postBody(t: TestServer, token: string, bytes: number) {
  const body = Buffer.from(JSON.stringify({ query: "{ me { email } }", variables: { pad: "x".repeat(bytes) } }));
  return rawRequest(t, "/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "content-length": String(body.length) },
    body,
  });
}

/** Opens a graphql-ws socket, sends one message of `bytes` bytes, and resolves with the close code. */
function closeCodeAfter(t: TestServer, token: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(t.wsUrl, "graphql-transport-ws");
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } })));
    socket.on("message", (data) => {
      const message = JSON.parse((data as Buffer).toString("utf8")) as { type: string };
      if (message.type === "connection_ack")
        socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: "{ me { email } }", variables: { pad: "x".repeat(bytes) } } }));
      if (message.type === "next") socket.close(1000);
    });
    socket.on("close", (code) => resolve(code));
    socket.on("error", reject);
  });
}

describe("payload limits", () => {
  const t = useTestServer();

  it("answers a 2 MB POST with a GraphQL-shaped 413 PAYLOAD_TOO_LARGE", async () => {
    const res = await postBody(t, tokenOf(t, "jane"), 2 * 1024 * 1024);
    expect(res.status).toBe(413);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(res.body.toString("utf8"))).toEqual({
      errors: [{ message: "request body larger than 1048576 bytes (HTTP_MAX_BODY_BYTES)", extensions: { code: "PAYLOAD_TOO_LARGE", status: 413 } }],
    });
    // The server goes on answering.
    expect((await postBody(t, tokenOf(t, "jane"), 10)).status).toBe(200);
  });

  it("closes a WebSocket whose message is larger than the limit with 1009, and serves smaller ones", async () => {
    const jane = tokenOf(t, "jane");
    expect(await closeCodeAfter(t, jane, 100)).toBe(1000);
    expect(await closeCodeAfter(t, jane, 2 * 1024 * 1024)).toBe(1009);
  });
});

describe("HTTP_MAX_BODY_BYTES", () => {
  const t = useTestServer({ env: { HTTP_MAX_BODY_BYTES: "4096" } });

  it("sets the largest body and WebSocket message", async () => {
    const jane = tokenOf(t, "jane");
    const res = await postBody(t, jane, 5000);
    expect(res.status).toBe(413);
    expect((JSON.parse(res.body.toString("utf8")) as { errors: { message: string }[] }).errors[0]!.message).toBe("request body larger than 4096 bytes (HTTP_MAX_BODY_BYTES)");
    expect((await postBody(t, jane, 1000)).status).toBe(200);
    expect(await closeCodeAfter(t, jane, 5000)).toBe(1009);
  });
});
