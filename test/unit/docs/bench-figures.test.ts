import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// docs/benchmarks.md is written by `npm run bench`; the README and docs/otp.md quote its figures. These tests
// read the figures from it, so a bench run that moves them fails here until the quotes are updated.
const bench = readFileSync("docs/benchmarks.md", "utf8");
const read = (file: string) => readFileSync(file, "utf8");

function match(pattern: RegExp, what: string): RegExpMatchArray {
  const m = bench.match(pattern);
  if (!m) throw new Error(`docs/benchmarks.md has no ${what} (${pattern})`);
  return m;
}
const int = (text: string) => Number(text.replaceAll(",", ""));
const ratio = (operation: string, implementation: string) =>
  match(
    new RegExp(`\\| ${operation} \\| ${implementation}[^|]* \\| [\\d,]+ \\| ([\\d.]+)x \\|`),
    `${operation} row for ${implementation}`,
  )[1];

const date = match(/^- Date: (\d{4}-\d{2}-\d{2})$/m, "date")[1];
const otp = {
  hotp: ratio("HOTP-SHA1 generate", "health-token/otp"),
  totp: ratio("TOTP verify ±1", "health-token/otp"),
  otplib: [ratio("HOTP-SHA1 generate", "otplib 13"), ratio("TOTP verify ±1", "otplib 13")],
  otpauth: [ratio("HOTP-SHA1 generate", "otpauth 9"), ratio("TOTP verify ±1", "otpauth 9")],
};
const kB = (row: string) =>
  (int(match(new RegExp(`\\| ${row} \\| [\\d,]+ B \\| ([\\d,]+) B \\|`), row)[1]!) / 1000).toFixed(1);

describe("figures quoted from docs/benchmarks.md", () => {
  it("docs/otp.md quotes the OTP ratios and the date of their run", () => {
    const doc = read("docs/otp.md");
    expect(doc).toContain(`run of ${date}`);
    expect(doc).toContain(`${otp.hotp}× the baseline`);
    expect(doc).toContain(`TOTP verify ±1 at ${otp.totp}×`);
    expect(doc).toContain(`otplib 13 runs at ${otp.otplib[0]}× and ${otp.otplib[1]}×`);
    expect(doc).toContain(`otpauth 9 at ${otp.otpauth[0]}× and ${otp.otpauth[1]}×`);
    expect(doc).toContain(`SHA-1 bundle to about ${kB("totp \\+ verifyTotp, SHA-1 only")} kB`);
    expect(doc).toContain(`algorithms to about ${kB("totp \\+ verifyTotp, all three algorithms")} kB`);
  });

  it("the README quotes the OTP ratios, the bundle, the memory store and the service throughput", () => {
    const readme = read("README.md").replace(/\s+/g, " ");
    expect(readme).toContain(`run of ${date}`);
    expect(readme).toContain(`${otp.hotp}× Node's \`createHmac\``);
    expect(readme).toContain(`(±1 step) at ${otp.totp}×`);
    expect(readme).toContain(`otplib 13 (${otp.otplib[0]}×, ${otp.otplib[1]}×)`);
    expect(readme).toContain(`otpauth 9 (${otp.otpauth[0]}×, ${otp.otpauth[1]}×)`);
    expect(readme).toContain(`${kB("totp \\+ verifyTotp, SHA-1 only")} kB (gzip)`);
    const token = match(/\| bytes per active token \([^)]*\) \| (\d+) \|/, "bytes per token")[1];
    const event = match(/\| bytes per stored event \([^)]*\) \| (\d+) \|/, "bytes per event")[1];
    expect(readme).toContain(`active token in ${token} bytes and an event in ${event}`);
    const pairs = int(match(/\| issue \+ verify pairs\/s \| ([\d,]+) \|/, "pairs/s")[1]!);
    expect(readme).toContain(
      `about ${(Math.round(pairs / 1000) * 1000).toLocaleString("en-US")} issue + verify pairs`,
    );
  });
});
