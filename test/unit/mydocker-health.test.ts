// Healthcheck configuration without a kernel: Go durations as docker's flags take and print
// them, the --health-* flags (docker's errors), the merge with an image's healthcheck, and the
// Dockerfile's HEALTHCHECK in commit/import -c.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectiveHealth, formatGoDuration, healthFromFlags, mergeHealth, parseGoDuration } from '../../src/mydocker/containers/health.js';
import { applyChange } from '../../src/mydocker/images/config-changes.js';

const S = 1e9;

describe('Go durations', () => {
  it('parses what time.ParseDuration parses', () => {
    assert.equal(parseGoDuration('10s'), 10 * S);
    assert.equal(parseGoDuration('1m30s'), 90 * S);
    assert.equal(parseGoDuration('500ms'), 0.5 * S);
    assert.equal(parseGoDuration('1.5s'), 1.5 * S);
    assert.equal(parseGoDuration('1h'), 3600 * S);
    assert.equal(parseGoDuration('300us'), 300e3);
    assert.equal(parseGoDuration('0'), 0);
    assert.equal(parseGoDuration('-2s'), -2 * S);
    for (const bad of ['banana', '10', '', 's', '1x', '1s2']) assert.equal(parseGoDuration(bad), null, bad);
  });
  it('prints as Duration.String', () => {
    assert.equal(formatGoDuration(30 * S), '30s');
    assert.equal(formatGoDuration(0.5 * S), '500ms');
    assert.equal(formatGoDuration(90 * S), '1m30s');
    assert.equal(formatGoDuration(3600 * S), '1h0m0s');
    assert.equal(formatGoDuration(1.5 * S), '1.5s');
    assert.equal(formatGoDuration(1.5e6), '1.5ms');
    assert.equal(formatGoDuration(0), '0s');
  });
});

describe('--health-* flags', () => {
  it('make docker\'s HealthConfig, only what was given', () => {
    assert.equal(healthFromFlags({}), undefined);
    assert.deepEqual(healthFromFlags({ healthCmd: 'true', healthInterval: '1s', healthRetries: '2' }), { Test: ['CMD-SHELL', 'true'], Interval: S, Retries: 2 });
    assert.deepEqual(healthFromFlags({ healthTimeout: '2s' }), { Timeout: 2 * S });
    assert.deepEqual(healthFromFlags({ healthcheck: false }), { Test: ['NONE'] });
  });
  it('refuse bad values, naming the flag', () => {
    assert.throws(() => healthFromFlags({ healthInterval: 'banana' }), /--health-interval.*invalid duration "banana"/);
    assert.throws(() => healthFromFlags({ healthTimeout: '-1s' }), /--health-timeout -1s: cannot be negative/);
    assert.throws(() => healthFromFlags({ healthStartPeriod: '10us' }), /--health-start-period 10us: cannot be less than 1ms/);
    assert.throws(() => healthFromFlags({ healthRetries: '-1' }), /--health-retries -1: cannot be negative/);
    assert.throws(() => healthFromFlags({ healthRetries: 'x' }), /--health-retries/);
    assert.throws(() => healthFromFlags({ healthcheck: false, healthCmd: 'true' }), /--no-healthcheck conflicts with --health-\* options/);
  });
  it('override the image field by field', () => {
    const image = { Test: ['CMD', 'check'], Interval: 5 * S, Retries: 7 };
    assert.deepEqual(mergeHealth({ Interval: S }, image), { Test: ['CMD', 'check'], Interval: S, Retries: 7 });
    assert.deepEqual(mergeHealth({ Test: ['NONE'] }, image), { Test: ['NONE'], Interval: 5 * S, Retries: 7 });
    assert.deepEqual(mergeHealth(undefined, image), image);
    assert.equal(effectiveHealth(mergeHealth({ Test: ['NONE'] }, image)), null);
  });
  it('default as docker: 30s interval and timeout, 3 retries, 5s start interval', () => {
    const e = effectiveHealth({ Test: ['CMD-SHELL', 'true'] })!;
    assert.deepEqual([e.Interval, e.Timeout, e.Retries, e.StartPeriod, e.StartInterval, e.command], [30 * S, 30 * S, 3, 0, 5 * S, ['/bin/sh', '-c', 'true']]);
    assert.deepEqual(effectiveHealth({ Test: ['CMD', 'cat', '/x'] })!.command, ['cat', '/x']);
  });
});

describe('HEALTHCHECK in commit/import -c', () => {
  it('takes the Dockerfile\'s forms', () => {
    assert.deepEqual(applyChange({}, 'HEALTHCHECK --interval=5s --retries=2 CMD wget -q localhost || exit 1').Healthcheck, { Test: ['CMD-SHELL', 'wget -q localhost || exit 1'], Interval: 5 * S, Retries: 2 });
    assert.deepEqual(applyChange({}, 'HEALTHCHECK CMD ["cat", "/ok"]').Healthcheck, { Test: ['CMD', 'cat', '/ok'] });
    assert.deepEqual(applyChange({}, 'HEALTHCHECK NONE').Healthcheck, { Test: ['NONE'] });
    assert.deepEqual(applyChange({}, 'HEALTHCHECK --start-period=1m --start-interval=500ms --timeout=3s CMD true').Healthcheck, { Test: ['CMD-SHELL', 'true'], StartPeriod: 60 * S, StartInterval: 0.5 * S, Timeout: 3 * S });
  });
  it('refuses what docker refuses', () => {
    assert.throws(() => applyChange({}, 'HEALTHCHECK --interval=banana CMD true'), /invalid duration/);
    assert.throws(() => applyChange({}, 'HEALTHCHECK --retries=-1 CMD true'), /cannot be negative/);
    assert.throws(() => applyChange({}, 'HEALTHCHECK --bogus=1 CMD true'), /unknown flag --bogus/);
    assert.throws(() => applyChange({}, 'HEALTHCHECK NONE true'), /takes no arguments/);
    assert.throws(() => applyChange({}, 'HEALTHCHECK RUN true'), /Unknown type "RUN" in HEALTHCHECK/);
    assert.throws(() => applyChange({}, 'HEALTHCHECK --interval=10us CMD true'), /less than 1ms/);
  });
});
