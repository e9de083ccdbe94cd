// A container's record: what `run`/`create` decided (docker's Config and HostConfig), and the
// last state mydocker saw. The record is never the truth about whether a container runs —
// status.ts derives that from the runtime and the monitor's exit file — but it keeps what
// only mydocker knows: name, image, options, start/finish times, the exit code once cleaned up.
//
// On disk: <lib>/containers/<id>/container.json, written atomically under the container's lock.

import type { HealthConfig } from './health.js';
import type { MountSpec } from './mount-flag.js';

/** docker's container Config (the fields mydocker sets and `inspect` shows). */
export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Entrypoint: string[] | null;
  Image: string;
  WorkingDir: string;
  Labels: Record<string, string>;
  StopSignal: string;
  StopTimeout: number | null;
  Volumes: Record<string, object> | null;
  ExposedPorts?: Record<string, object>;
  /** --health-* over the image's HEALTHCHECK (docker's HealthConfig; absent: none). */
  Healthcheck?: HealthConfig;
}

export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

/** docker's HostConfig (the fields mydocker implements). */
export interface HostConfig {
  Binds: string[];
  NetworkMode: string;
  PortBindings: Record<string, PortBinding[]>;
  PublishAllPorts: boolean;
  AutoRemove: boolean;
  Privileged: boolean;
  ReadonlyRootfs: boolean;
  CapAdd: string[];
  CapDrop: string[];
  SecurityOpt: string[];
  Devices: DeviceMapping[];
  Memory: number;
  MemorySwap: number;
  NanoCpus: number;
  CpuShares: number;
  CpusetCpus: string;
  PidsLimit: number | null;
  Ulimits: { Name: string; Soft: number; Hard: number }[];
  ShmSize: number;
  Tmpfs: Record<string, string>;
  Init: boolean;
  IpcMode: string;
  PidMode: string;
  UTSMode: string;
  /** --add-host, as "name:ip" (ip may be host-gateway). Absent in records older than the flag. */
  ExtraHosts?: string[];
  /** --dns, --dns-search, --dns-option. */
  Dns?: string[];
  DnsSearch?: string[];
  DnsOptions?: string[];
  /** --restart. Absent in records older than the flag (meaning "no"). */
  RestartPolicy?: RestartPolicy;
  /** --sysctl, --group-add, --mount (as given; binds and volumes are also in Mounts). */
  Sysctls?: Record<string, string>;
  GroupAdd?: string[];
  Mounts?: MountSpec[];
  /** --log-driver/--log-opt: k8s-file (conmon's, also for json-file and local) or none. */
  LogConfig?: { Type: 'k8s-file' | 'none'; Config: Record<string, string> };
  /** --volumes-from, as given (CONTAINER[:ro|rw]). */
  VolumesFrom?: string[];
  /** --cpu-period/--cpu-quota (µs), --cpuset-mems, --memory-reservation, --oom-kill-disable, --oom-score-adj. */
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetMems?: string;
  MemoryReservation?: number;
  OomKillDisable?: boolean;
  OomScoreAdj?: number;
}

/** docker's HostConfig.RestartPolicy; MaximumRetryCount only with on-failure (0: unlimited). */
export interface RestartPolicy {
  Name: 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount: number;
}

/**
 * A restart the policy decided on and that has not happened yet (docker's Restarting state);
 * see restart.ts. Only "restarting" while the waiter it names lives.
 */
export interface PendingRestart {
  /** The back-off before this restart, ms. */
  Delay: number;
  /** Pid of the process sleeping it (conmon's exit command); 0 until one claims it. */
  Waiter: number;
  /** The exit code of the run that ended (shown while restarting, as docker's "Restarting (3)"). */
  ExitCode: number;
}

/** A mount as `inspect` shows it. Volumes are kept by name; binds by host path. */
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  /** Volume name (named or anonymous), for volumes. */
  Name?: string;
  Source: string;
  Destination: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** A volume still to be filled from the image's content at its path (docker's copy-up), at first start. */
  CopyUp?: boolean;
}

export interface RecordedState {
  /** What mydocker last did: created → running → exited (or removing). Not the truth; see status.ts. */
  Status: 'created' | 'running' | 'exited' | 'removing';
  /** Host pid of the container's process while running (0 otherwise). */
  Pid: number;
  ExitCode: number;
  Error: string;
  OOMKilled: boolean;
  StartedAt: string;
  FinishedAt: string;
  /** Whether a monitor was started for the current run (so an exit file is expected). */
  Monitored: boolean;
}

/**
 * A network the container is configured to join (what docker keeps in its EndpointSettings
 * before the endpoint exists). Its address, MAC and gateway are not kept here: while it runs
 * they are read from the network hook's state (network/endpoints.ts), so a crash can never
 * leave a stale address in the record.
 */
export interface NetworkAttachment {
  NetworkID: string;
  /** --network-alias / `network connect --alias`: more names on a user-defined network. */
  Aliases: string[] | null;
  /** --ip / `network connect --ip`: a fixed address. */
  IPAMConfig: { IPv4Address?: string } | null;
}

export interface ContainerRecord {
  version: 1;
  Id: string;
  Name: string;
  Created: string;
  /** The image as the user named it, and what it resolved to. */
  Image: string;
  ImageId: string;
  Path: string;
  Args: string[];
  Config: ContainerConfig;
  HostConfig: HostConfig;
  Mounts: MountPoint[];
  State: RecordedState;
  /** Restarts made by the restart policy since the last start by the user (docker's). */
  RestartCount: number;
  /** docker's HasBeenManuallyStopped: a stop, rm -f, or kill with the stop signal or SIGKILL; cleared by a start. */
  ManuallyStopped?: boolean;
  /** The back-off of the last automatic restart, ms (0: the next one waits the first delay). */
  RestartBackoff?: number;
  PendingRestart?: PendingRestart;
  /** The networks it joins, by network name (the first one gets eth0 and the published ports). */
  Networks: Record<string, NetworkAttachment>;
  /** Anonymous volumes created for this container (removed by `rm -v`). */
  AnonymousVolumes: string[];
}

export function initialState(): RecordedState {
  return {
    Status: 'created',
    Pid: 0,
    ExitCode: 0,
    Error: '',
    OOMKilled: false,
    StartedAt: '0001-01-01T00:00:00Z',
    FinishedAt: '0001-01-01T00:00:00Z',
    Monitored: false,
  };
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';
