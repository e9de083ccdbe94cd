// Crash points for the fault tests: with MYDOCKER_TEST_CRASH_AT=<name>, mydocker kills itself
// with SIGKILL when it reaches that step, so a test can prove that the next command (or
// `rm -f`) finishes or undoes whatever was half done. A no-op otherwise (one env lookup).
export function crashPoint(name: string): void {
  if (process.env.MYDOCKER_TEST_CRASH_AT === name) process.kill(process.pid, 'SIGKILL');
}
