import { describe, expect, it } from "vitest";
import { StatusBoard, type EnvironmentLine } from "../../../src/agent/display.js";

/** The simulator's live status lines. */
describe("the agent simulator's status board", () => {
  it("on a terminal, redraws the block of status lines in place each round", () => {
    let written = "";
    const tty = { isTTY: true, columns: 120, write: (s: string) => ((written += s), true) } as unknown as NodeJS.WriteStream;
    const board = new StatusBoard(tty);
    const line = (state: string): EnvironmentLine => ({
      name: "acme/production",
      state,
      health: "Healthy",
      revision: "3f2a1b7c0ffee",
      at: new Date(Date.UTC(2024, 0, 1, 12, 4, 5)),
      drift: [],
      error: null,
    });
    board.render([line("SYNCED"), { ...line("SYNCED"), name: "acme/staging" }]);
    expect(written).toBe("\x1b[2Kacme/production  SYNCED       Healthy    3f2a1b7  12:04:05\n\x1b[2Kacme/staging     SYNCED       Healthy    3f2a1b7  12:04:05\n");
    written = "";
    board.render([line("OUT_OF_SYNC"), { ...line("SYNCED"), name: "acme/staging" }]);
    // Cursor back up two lines, then both lines cleared and rewritten.
    expect(written.startsWith("\x1b[2F\x1b[2Kacme/production  OUT_OF_SYNC")).toBe(true);
    expect(written.split("\n")).toHaveLength(3);
  });
});
