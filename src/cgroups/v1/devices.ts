// Device rules on the v1 devices controller: reset with "a" (devices.deny for a deny-all
// default, devices.allow for allow-all), then one line per exception into the other file.
// The reset needs a cgroup without children (ours is a leaf), and an allow-all default needs
// a parent that allows everything.
import type { LinuxDeviceCgroup } from '../../spec/generated/types.js';
import type { CgroupDir } from '../dir.js';
import { emulateDevices, ruleLine } from '../devices.js';

const F = 'linux.resources.devices';

export function applyDevicesV1(dir: CgroupDir, rules: LinuxDeviceCgroup[]): void {
  const state = emulateDevices(rules);
  const [resetFile, exceptionFile] = state.defaultAllow
    ? ['devices.allow', 'devices.deny']
    : ['devices.deny', 'devices.allow'];
  dir.write(F, resetFile, 'a');
  for (const r of state.exceptions) dir.write(F, exceptionFile, ruleLine(r));
}
