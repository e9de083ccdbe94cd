// Schema validation and JSON parsing: every failure is one line naming the field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { defaultSpec } from '../../src/spec/defaults.js';
import { parseJson, validateConfig, validateProcess, validateResources, validateState } from '../../src/spec/validate.js';

/** A valid config to break one field of. */
function base(): any {
  return JSON.parse(JSON.stringify(defaultSpec()));
}

function rejects(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.equal((e as Error).message.includes('\n'), false, 'message must be one line');
    if (typeof message === 'string') assert.equal((e as Error).message, message);
    else assert.match((e as Error).message, message);
    return true;
  });
}

describe('parseJson', () => {
  it('parses valid JSON', () => {
    assert.deepEqual(parseJson('{"a": [1, true, null]}', 'x.json'), { a: [1, true, null] });
  });

  it('names line and column of the first bad token', () => {
    rejects(() => parseJson('{\n  "a": 1,\n    }', 'config.json'), 'config.json: invalid JSON: Unexpected token } at line 3 column 5');
    rejects(() => parseJson('{"a" 1}', 'config.json'), 'config.json: invalid JSON: Unexpected token 1 at line 1 column 6');
    rejects(() => parseJson('[1, 2', 'config.json'), 'config.json: invalid JSON: Unexpected end of input at line 1 column 6');
    rejects(() => parseJson('{"a": tru}', 'config.json'), 'config.json: invalid JSON: Unexpected token } at line 1 column 10');
    rejects(() => parseJson('{}\n x', 'config.json'), 'config.json: invalid JSON: Unexpected token x at line 2 column 2');
    rejects(() => parseJson('', 'p.json'), 'p.json: invalid JSON: Unexpected end of input at line 1 column 1');
    rejects(() => parseJson('{"a": 01}', 'c'), 'c: invalid JSON: Unexpected token 1 at line 1 column 8');
    rejects(() => parseJson('{"a": "x\ty"}', 'c'), 'c: invalid JSON: Bad control character in string at line 1 column 9');
  });
});

describe('validateConfig', () => {
  it('accepts the default spec and returns it typed', () => {
    const spec = validateConfig(base());
    assert.equal(spec.process?.args[0], 'sh');
  });

  it('allows unknown properties anywhere (the spec says runtimes MUST ignore them)', () => {
    const c = base();
    c.somethingNew = { x: 1 };
    c.process.futureField = 'y';
    c.linux.namespaces[0].extra = true;
    validateConfig(c);
  });

  it('treats null properties as absent, as Go runtimes do', () => {
    const c = base();
    c.annotations = null;
    c.linux.seccomp = null;
    const spec = validateConfig(c);
    assert.equal('annotations' in spec, false);
  });

  it('requires ociVersion', () => {
    const c = base();
    delete c.ociVersion;
    rejects(() => validateConfig(c), 'config.json: /ociVersion: is required');
  });

  it('requires at least one process arg', () => {
    const c = base();
    c.process.args = [];
    rejects(() => validateConfig(c), 'config.json: /process/args: must NOT have fewer than 1 items');
  });

  it('requires process.args when process is present', () => {
    const c = base();
    delete c.process.args;
    rejects(() => validateConfig(c), 'config.json: /process/args: is required');
  });

  it('refuses a negative uid', () => {
    const c = base();
    c.process.user.uid = -1;
    rejects(() => validateConfig(c), 'config.json: /process/user/uid: must be >= 0 (got -1)');
  });

  it('refuses a uid past uint32', () => {
    const c = base();
    c.process.user.gid = 4294967296;
    rejects(() => validateConfig(c), 'config.json: /process/user/gid: must be <= 4294967295 (got 4294967296)');
  });

  it('lists the allowed namespace types', () => {
    const c = base();
    c.linux.namespaces[0].type = 'foo';
    rejects(
      () => validateConfig(c),
      'config.json: /linux/namespaces/0/type: must be one of pid, network, mount, ipc, uts, user, cgroup, time (got "foo")',
    );
  });

  it('names wrong types', () => {
    const c = base();
    c.hostname = 5;
    rejects(() => validateConfig(c), 'config.json: /hostname: must be string (got 5)');
    rejects(() => validateConfig([]), 'config.json: must be object (got array)');
    const d = base();
    d.process.env = 'PATH=/bin';
    rejects(() => validateConfig(d), 'config.json: /process/env: must be array (got "PATH=/bin")');
  });

  it('requires absolute paths where the spec does', () => {
    const c = base();
    c.process.cwd = 'tmp';
    rejects(() => validateConfig(c), 'config.json: /process/cwd: must be an absolute path (got "tmp")');
    const h = base();
    h.hooks = { poststop: [{ path: 'hook.sh' }] };
    rejects(() => validateConfig(h), 'config.json: /hooks/poststop/0/path: must be an absolute path (got "hook.sh")');
    const n = base();
    n.linux.namespaces[1].path = 'net';
    rejects(() => validateConfig(n), 'config.json: /linux/namespaces/1/path: must be an absolute path (got "net")');
  });

  it('checks hook timeouts and all six hook kinds', () => {
    const c = base();
    c.hooks = {};
    for (const k of ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']) {
      c.hooks[k] = [{ path: '/bin/true', args: ['true'], env: ['A=b'], timeout: 5 }];
    }
    validateConfig(c);
    c.hooks.startContainer[0].timeout = 0;
    rejects(() => validateConfig(c), 'config.json: /hooks/startContainer/0/timeout: must be >= 1 (got 0)');
  });

  it('bounds oomScoreAdj', () => {
    const c = base();
    c.process.oomScoreAdj = 1001;
    rejects(() => validateConfig(c), 'config.json: /process/oomScoreAdj: must be <= 1000 (got 1001)');
  });

  it('accepts RLIM_INFINITY as a uint64', () => {
    const c = parseJson(
      JSON.stringify(base()).replace('"hard":1024', '"hard":18446744073709551615'),
      'config.json',
    ) as any;
    validateConfig(c);
  });

  it('checks seccomp enums', () => {
    const c = base();
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_NOPE' }] };
    rejects(() => validateConfig(c), /^config\.json: \/linux\/seccomp\/syscalls\/0\/action: must be one of SCMP_ACT_KILL, .* \(got "SCMP_ACT_NOPE"\)$/);
  });
});

describe('validateProcess and validateResources', () => {
  it('validate the objects exec --process and update -r read', () => {
    validateProcess({ args: ['ls'], cwd: '/', user: { uid: 0, gid: 0 } });
    rejects(() => validateProcess({ args: ['ls'] }), 'process.json: /cwd: is required');
    validateResources({ memory: { limit: -1 }, pids: { limit: 10 } });
    rejects(() => validateResources({ pids: { limit: 'x' } }), 'resources.json: /pids/limit: must be integer (got "x")');
    rejects(() => validateResources({ memory: { swappiness: 101 } }, 'r.json'), 'r.json: /memory/swappiness: must be <= 100 (got 101)');
  });
});

describe('validateState', () => {
  it('requires a pid while created or running', () => {
    const s = { ociVersion: '1.2.0', id: 'c1', status: 'created', bundle: '/b' };
    rejects(() => validateState(s), 'state: /pid: is required');
    validateState({ ...s, status: 'stopped' });
    validateState({ ...s, pid: 42 });
  });
});
