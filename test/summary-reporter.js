// Prints the run's totals as one plain line ("N passed, N failed, N skipped") after jest's own summary,
// so that CI logs carry a closing line any reader or tool understands.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    // Issue 16: which Node ran the suite (package.json "engines"; scripts/with-node.mjs), then the closing line.
    process.stdout.write(`\njest: on Node ${process.version}\n`);
    process.stdout.write(`jest: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
module.exports = SummaryReporter;
