/** RFC 4648 §10 "Test Vectors", BASE32 (§6 alphabet, padded). */
export const RFC4648_BASE32: readonly { text: string; base32: string }[] = [
  { text: "", base32: "" },
  { text: "f", base32: "MY======" },
  { text: "fo", base32: "MZXQ====" },
  { text: "foo", base32: "MZXW6===" },
  { text: "foob", base32: "MZXW6YQ=" },
  { text: "fooba", base32: "MZXW6YTB" },
  { text: "foobar", base32: "MZXW6YTBOI======" },
];
