// prelaunch.ts reads just enough of a `create`/`run` command line to spawn the init early, and
// must say "not sure" (null) for anything it does not fully understand: create() then
// launches as it always did.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLaunchArgs } from '../../src/process/prelaunch.js';

describe('prelaunch: parseLaunchArgs', () => {
  it('reads the bundle and --preserve-fds of plain create and run lines', () => {
    assert.deepEqual(parseLaunchArgs(['create', 'c1']), { bundle: '.', preserveFds: 0 });
    assert.deepEqual(parseLaunchArgs(['--root', '/r', 'create', '--bundle', '/b', '--pid-file', '/p', 'c1']), { bundle: '/b', preserveFds: 0 });
    assert.deepEqual(parseLaunchArgs(['--root=/r', '--log', '/l', '--log-format', 'json', 'run', '-b', '/b', '-d', 'c1']), { bundle: '/b', preserveFds: 0 });
    assert.deepEqual(parseLaunchArgs(['--debug', 'create', 'c1', '--bundle=/b', '--preserve-fds', '2']), { bundle: '/b', preserveFds: 2 });
    assert.deepEqual(parseLaunchArgs(['run', '--keep', '--no-pivot', '--no-new-keyring', 'c1']), { bundle: '.', preserveFds: 0 });
    // The console socket is connected by create() and handed to the init with its plan.
    assert.deepEqual(parseLaunchArgs(['create', '--console-socket', '/s', 'c1']), { bundle: '.', preserveFds: 0 });
  });

  it('gives up on anything else', () => {
    for (const argv of [
      [],
      ['start', 'c1'],
      ['exec', 'c1', 'true'],
      ['--version'],
      ['create'], // no id
      ['create', 'a', 'b'], // two positionals
      ['create', '--bundle'], // value missing
      ['create', '-b/b', 'c1'], // attached short value: commander's business
      ['create', '--help'],
      ['create', '--', 'c1'],
      ['create', '--preserve-fds', 'x', 'c1'],
      ['--unknown', 'create', 'c1'],
    ]) {
      assert.equal(parseLaunchArgs(argv), null, argv.join(' '));
    }
  });
});
