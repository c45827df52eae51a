import { describe, expect, it } from "vitest";
import { newPair, pairsToRecord, type Pair } from "./pairs";

const pair = (name: string, value: string): Pair => ({ ...newPair(), name, value });

describe("pairsToRecord", () => {
  it("makes an object of the rows, names trimmed, values as typed, blank rows ignored", () => {
    const rows = [pair(" Authorization ", "Bearer x "), pair("", ""), pair("X-Team", "a=b")];
    expect(pairsToRecord(rows, "Header")).toEqual({ record: { Authorization: "Bearer x ", "X-Team": "a=b" } });
  });

  it("is empty for no rows or only blank ones", () => {
    expect(pairsToRecord([], "Header")).toEqual({ record: {} });
    expect(pairsToRecord([pair("  ", "")], "Header")).toEqual({ record: {} });
  });

  it("names a row with a value but no name by its number", () => {
    expect(pairsToRecord([pair("A", "1"), pair(" ", "secret")], "Variable")).toEqual({
      problem: "Variable 2 has a value but no name.",
    });
  });

  it("refuses a name given twice", () => {
    expect(pairsToRecord([pair("TOKEN", "1"), pair("TOKEN ", "2")], "Variable")).toEqual({
      problem: "Variable TOKEN is given twice.",
    });
  });

  it("takes a name like a prototype key as a plain name", () => {
    expect(pairsToRecord([pair("constructor", "1"), pair("__proto__", "2")], "Header")).toEqual({
      record: JSON.parse('{"constructor":"1","__proto__":"2"}'),
    });
  });

  it("gives each new row an id of its own", () => {
    expect(newPair().id).not.toBe(newPair().id);
  });
});
