// tables.ts: the numbers are the kernel's, and the schema's enums agree with the tables.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/errors.js';
import {
  CAPABILITIES,
  capabilityNumber,
  MOUNT_OPTIONS,
  NAMESPACES,
  NAMESPACE_TYPES,
  namespaceTypeOfFlag,
  parseSignal,
  PROPAGATION_OPTIONS,
  RLIMITS,
  rlimitNumber,
  SECCOMP_ACTIONS,
  SECCOMP_ARCHS,
  SECCOMP_FLAGS,
  SECCOMP_OPERATORS,
  signalName,
} from '../../src/spec/tables.js';

const schema = JSON.parse(readFileSync(new URL('../../../schemas/config.schema.json', import.meta.url), 'utf8'));

describe('tables', () => {
  it('parses signals the ways users write them', () => {
    for (const s of ['KILL', 'SIGKILL', 'kill', '9']) assert.equal(parseSignal(s), 9);
    assert.equal(parseSignal('TERM'), 15);
    assert.equal(parseSignal('SIGRTMIN'), 34);
    assert.equal(parseSignal('RTMIN+3'), 37);
    assert.equal(parseSignal('SIGRTMAX-1'), 63);
    for (const bad of ['FOO', '0', '65', 'RTMIN+40', 'SIGCONSTRUCTOR', '']) {
      assert.throws(() => parseSignal(bad), new UsageError(`unknown signal ${JSON.stringify(bad)}`));
    }
    assert.equal(signalName(15), 'SIGTERM');
    assert.equal(signalName(6), 'SIGABRT');
    assert.equal(signalName(36), 'SIGRTMIN+2');
  });

  it('numbers capabilities 0..40 without gaps', () => {
    const nums = Object.values(CAPABILITIES).sort((a, b) => a - b);
    assert.deepEqual(nums, [...Array(41).keys()]);
    assert.equal(capabilityNumber('CAP_SYS_ADMIN'), 21);
    assert.equal(capabilityNumber('CAP_CHECKPOINT_RESTORE'), 40);
    assert.throws(() => capabilityNumber('CAP_NOPE', 'process.capabilities.bounding[0]'), {
      message: 'process.capabilities.bounding[0]: unknown capability "CAP_NOPE"',
    });
    assert.throws(() => capabilityNumber('toString'));
  });

  it('numbers rlimits 0..15', () => {
    assert.deepEqual(Object.values(RLIMITS), [...Array(16).keys()]);
    assert.equal(rlimitNumber('RLIMIT_NOFILE'), 7);
    assert.throws(() => rlimitNumber('RLIMIT_X', 'f'), { message: 'f: unknown rlimit "RLIMIT_X"' });
  });

  it('maps namespace types to flags and back', () => {
    assert.equal(NAMESPACES.network.flag, 0x40000000);
    assert.equal(NAMESPACES.mount.procFile, 'mnt');
    for (const t of NAMESPACE_TYPES) assert.equal(namespaceTypeOfFlag(NAMESPACES[t].flag), t);
  });

  it('knows mount options as set/clear flags', () => {
    assert.deepEqual(MOUNT_OPTIONS.ro, { flag: 1, clear: false });
    assert.deepEqual(MOUNT_OPTIONS.rw, { flag: 1, clear: true });
    assert.deepEqual(MOUNT_OPTIONS.rbind, { flag: 0x1000 | 0x4000, clear: false });
    assert.equal(PROPAGATION_OPTIONS.rslave, 0x80000 | 0x4000);
  });

  it('agrees with the schema enums (one source of truth)', () => {
    const d = schema.definitions;
    assert.deepEqual([...d.LinuxNamespaceType.enum].sort(), [...NAMESPACE_TYPES].sort());
    assert.deepEqual([...d.SeccompAction.enum].sort(), Object.keys(SECCOMP_ACTIONS).sort());
    assert.deepEqual([...d.SeccompArch.enum].sort(), [...SECCOMP_ARCHS].sort());
    assert.deepEqual([...d.SeccompFlag.enum].sort(), Object.keys(SECCOMP_FLAGS).sort());
    assert.deepEqual([...d.SeccompOperator.enum].sort(), [...SECCOMP_OPERATORS].sort());
  });
});
