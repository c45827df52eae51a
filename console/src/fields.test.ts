import { describe, expect, it } from "vitest";
import { fieldErrors } from "./fields";

describe("fieldErrors", () => {
  const fields = ["max", "max_history_turns", "tool_permissions", "timezone"];

  it("puts each part of the detail on the field it names", () => {
    const detail =
      "max_history_turns: Input should be greater than or equal to 1; tool_permissions.shell: Input should be 'allow', 'ask' or 'deny'";
    expect(fieldErrors(detail, fields)).toEqual({
      max_history_turns: "max_history_turns: Input should be greater than or equal to 1",
      tool_permissions: "tool_permissions.shell: Input should be 'allow', 'ask' or 'deny'",
    });
  });

  it("keeps two errors of one field and ignores what names no field", () => {
    const detail = "timezone: unknown; timezone: too long; body: Input should be an object";
    expect(fieldErrors(detail, fields)).toEqual({ timezone: "timezone: unknown; timezone: too long" });
  });

  it("does not take a field for another that it starts with", () => {
    expect(fieldErrors("max: bad", fields)).toEqual({ max: "max: bad" });
  });
});
