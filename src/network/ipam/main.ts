#!/usr/bin/env node
// mydocker-ipam: the CNI IPAM plugin (host-local's configuration keys; see config.ts).
import { pluginMain } from '../cni/skel.js';
import { ipamPlugin } from './plugin.js';

pluginMain(ipamPlugin);
