// `inspect` of a container: docker's JSON shape for the fields scripts use.
import { join } from 'node:path';
import type { Engine } from '../engine.js';
import { networkSettings } from '../network/container.js';
import type { ContainerRecord } from './record.js';
import { containerLower, rootfsDirs } from './rootfs.js';
import { policyOf } from './restart.js';
import { liveState } from './status.js';
import { healthOf, type Health } from './health.js';

/** docker shows State.Health only for a container with a healthcheck. */
const withHealth = (h: Health | null) => (h ? { Health: h } : {});

export async function inspectContainer(engine: Engine, rec: ContainerRecord): Promise<Record<string, unknown>> {
  const live = liveState(engine, rec);
  const dir = engine.containers.path(rec.Id);
  const dirs = rootfsDirs(dir);
  let lower = '';
  try {
    const image = engine.findImage(rec.ImageId);
    if (image) lower = (await containerLower(engine, image)).lowerdir;
  } catch {
    /* image gone */
  }
  return {
    Id: rec.Id,
    Created: rec.Created,
    Path: rec.Path,
    Args: rec.Args,
    State: {
      Status: live.Status,
      // docker counts a restarting container as running (it is, between two runs).
      Running: (live.Running && !live.Paused) || live.Status === 'restarting',
      Paused: live.Paused,
      Restarting: live.Status === 'restarting',
      OOMKilled: live.OOMKilled,
      Dead: live.Status === 'dead',
      Pid: live.Running ? live.Pid : 0,
      ExitCode: live.ExitCode,
      Error: live.Error,
      StartedAt: live.StartedAt,
      FinishedAt: live.FinishedAt,
      ...withHealth(healthOf(engine, rec, live.Running && !live.Paused)),
    },
    Image: rec.ImageId,
    ResolvConfPath: join(dir, 'resolv.conf'),
    HostnamePath: join(dir, 'hostname'),
    HostsPath: join(dir, 'hosts'),
    LogPath: join(dir, 'ctr.log'),
    Name: `/${rec.Name}`,
    RestartCount: rec.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: { ...rec.HostConfig, ExtraHosts: rec.HostConfig.ExtraHosts?.length ? rec.HostConfig.ExtraHosts : null, Dns: rec.HostConfig.Dns ?? [], DnsSearch: rec.HostConfig.DnsSearch ?? [], DnsOptions: rec.HostConfig.DnsOptions ?? [], LogConfig: rec.HostConfig.LogConfig ?? { Type: 'k8s-file', Config: {} }, RestartPolicy: policyOf(rec.HostConfig) },
    GraphDriver: { Name: 'overlay2', Data: { LowerDir: lower, MergedDir: dirs.merged, UpperDir: dirs.upper, WorkDir: dirs.work } },
    Mounts: rec.Mounts.map((m) => ({
      Type: m.Type,
      ...(m.Type === 'volume' ? { Name: m.Name, Driver: 'local' } : {}),
      Source: m.Source,
      Destination: m.Destination,
      Mode: m.Mode,
      RW: m.RW,
      Propagation: m.Type === 'bind' ? m.Propagation : '',
    })),
    Config: rec.Config,
    NetworkSettings: networkSettings(engine, rec, live.Running),
  };
}
