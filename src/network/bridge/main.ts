#!/usr/bin/env node
// mydocker-bridge: the CNI bridge plugin (configuration keys in config.ts, steps in plugin.ts).
import { pluginMain } from '../cni/skel.js';
import { bridgePlugin } from './plugin.js';

pluginMain(bridgePlugin);
