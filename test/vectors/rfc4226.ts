/**
 * RFC 4226 (HOTP), Appendix D "HOTP Algorithm: Test Values".
 * Secret: the ASCII string "12345678901234567890" (20 bytes), HMAC-SHA-1, 6 digits.
 * Columns: counter, the full HMAC-SHA-1 (hex), the 31-bit dynamically truncated value (decimal), the HOTP.
 */
export const RFC4226_SECRET = "12345678901234567890";

export const RFC4226_APPENDIX_D: readonly {
  counter: number;
  hmac: string;
  truncated: number;
  hotp: string;
}[] = [
  { counter: 0, hmac: "cc93cf18508d94934c64b65d8ba7667fb7cde4b0", truncated: 1284755224, hotp: "755224" },
  { counter: 1, hmac: "75a48a19d4cbe100644e8ac1397eea747a2d33ab", truncated: 1094287082, hotp: "287082" },
  { counter: 2, hmac: "0bacb7fa082fef30782211938bc1c5e70416ff44", truncated: 137359152, hotp: "359152" },
  { counter: 3, hmac: "66c28227d03a2d5529262ff016a1e6ef76557ece", truncated: 1726969429, hotp: "969429" },
  { counter: 4, hmac: "a904c900a64b35909874b33e61c5938a8e15ed1c", truncated: 1640338314, hotp: "338314" },
  { counter: 5, hmac: "a37e783d7b7233c083d4f62926c7a25f238d0316", truncated: 868254676, hotp: "254676" },
  { counter: 6, hmac: "bc9cd28561042c83f219324d3c607256c03272ae", truncated: 1918287922, hotp: "287922" },
  { counter: 7, hmac: "a4fb960c0bc06e1eabb804e5b397cdc4b45596fa", truncated: 82162583, hotp: "162583" },
  { counter: 8, hmac: "1b3c89f65e6c9e883012052823443f048b4332db", truncated: 673399871, hotp: "399871" },
  { counter: 9, hmac: "1637409809a679dc698207310c8c7fc07290d9e5", truncated: 645520489, hotp: "520489" },
];
