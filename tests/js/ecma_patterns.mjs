// Compiles each pattern as browsers and ajv do (ECMA-262, `u` flag) and tells which samples
// it fully matches: node ecma_patterns.mjs CASES.json, CASES: [[pattern, [sample, ...]], ...].
import { readFileSync } from "node:fs";

const cases = JSON.parse(readFileSync(process.argv[2], "utf8"));
const results = cases.map(([pattern, samples]) => {
  try {
    const regex = new RegExp(pattern, "u");
    return { compiled: true, matches: samples.map((sample) => regex.test(sample)) };
  } catch (error) {
    return { compiled: false, error: String(error.message) };
  }
});
process.stdout.write(JSON.stringify(results));
