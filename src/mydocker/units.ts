// Sizes as docker prints them (github.com/docker/go-units), in one place.

/**
 * HumanSizeWithPrecision: decimal units, `precision` significant digits — 3 for `images` and
 * `stats` I/O ("4.26MB"), 4 for progress and `cp` (HumanSize: "2.365MB", "527B").
 */
export function humanSize(n: number, precision = 4): string {
  return scaled(n, 1000, ['B', 'kB', 'MB', 'GB', 'TB', 'PB'], precision);
}

/** BytesSize: binary units, 4 significant digits ("1.387MiB"), as `stats` shows memory. */
export function bytesSize(n: number): string {
  return scaled(n, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'], 4);
}

function scaled(n: number, base: number, units: string[], precision: number): string {
  let v = n;
  let i = 0;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  return `${Number(v.toPrecision(precision))}${units[i]}`;
}
