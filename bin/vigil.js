#!/usr/bin/env node
// The `vigil` command. Termination signals are captured before anything else loads, so a
// SIGTERM that arrives during start-up becomes an orderly shutdown instead of a hard kill.
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'];
const early = [];
const capture = (signal) => early.push(signal);
for (const s of SIGNALS) process.on(s, capture);

let main;
try {
  // Before anything else allocates: fixes the young generation's size (see the module).
  const { fixYoungGeneration } = await import('../dist/util/young-generation.js');
  fixYoungGeneration();
  ({ main } = await import('../dist/cmd/main.js'));
} catch (err) {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && /dist\/(cmd\/main|util\/young-generation)\.js/.test(String(err.message))) {
    process.stderr.write('vigil: not built yet; run `npm run build` (npm install and npm start do it)\n');
    process.exit(1);
  }
  throw err;
}
// main() installs its own handlers before its first await, so removing ours in the same tick
// leaves no moment without one.
for (const s of SIGNALS) process.off(s, capture);
const code = await main(process.argv.slice(2), { earlySignals: early });
process.exit(code);
