// linux.resources.hugepageLimits on the hugetlb controller (v1 or v2; file names differ).
//   v1  hugetlb.<size>.limit_in_bytes   (+ hugetlb.<size>.rsvd.limit_in_bytes when present)
//   v2  hugetlb.<size>.max              (+ hugetlb.<size>.rsvd.max when present)
// A page size the host does not have is refused, naming the sizes it has.
import { ConfigError, UnsupportedError } from '../errors.js';
import type { LinuxHugepageLimit } from '../spec/generated/types.js';
import { type CgroupDir, isInt } from './dir.js';
import type { ApplyContext } from './host.js';

const F = 'linux.resources.hugepageLimits';

export function applyHugetlb(dir: CgroupDir, limits: LinuxHugepageLimit[], ctx: ApplyContext, version: 1 | 2): void {
  const sizes = ctx.host.hugePageSizes();
  limits.forEach((l, i) => {
    const field = `${F}[${i}]`;
    if (!sizes.includes(l.pageSize)) {
      throw new UnsupportedError(
        `${field}.pageSize: huge page size ${JSON.stringify(l.pageSize)} does not exist on this host (it has: ${sizes.join(', ') || 'none'})`,
      );
    }
    if (!isInt(l.limit) || l.limit < 0) throw new ConfigError(`${field}.limit: ${l.limit} is not a byte count`);
    const file = version === 1 ? `hugetlb.${l.pageSize}.limit_in_bytes` : `hugetlb.${l.pageSize}.max`;
    const rsvd = version === 1 ? `hugetlb.${l.pageSize}.rsvd.limit_in_bytes` : `hugetlb.${l.pageSize}.rsvd.max`;
    if (!dir.has(file)) {
      throw new UnsupportedError(`${field}: the hugetlb controller is not available in ${dir.path} (no ${file})`);
    }
    dir.write(`${field}.limit`, file, l.limit);
    if (dir.has(rsvd)) dir.write(`${field}.limit`, rsvd, l.limit);
  });
}
