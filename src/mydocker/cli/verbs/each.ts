// Verbs that act on several containers go on after a failure and report each, as docker.
export async function forEach(refs: string[], act: (ref: string) => Promise<void> | void): Promise<string[]> {
  const done: string[] = [];
  let failed: unknown;
  for (const ref of refs) {
    try {
      await act(ref);
      done.push(ref);
    } catch (e) {
      if (failed === undefined) failed = e;
      else process.stderr.write(`mydocker: ${(e as Error).message}\n`);
    }
  }
  if (failed !== undefined) {
    if (done.length) process.stdout.write(`${done.join('\n')}\n`);
    throw failed;
  }
  return done;
}
