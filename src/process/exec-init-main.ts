// Entry point of dist/exec-init.js: `node exec-init.js <sync fd> <launch mount-ns fd>`, spawned
// by `exec` inside the container's PID namespace (see exec-init.ts). A bundle of its own, so
// that it carries none of the rootfs code the init needs.
import { execInitMain } from './exec-init.js';

execInitMain(Number(process.argv[2]), Number(process.argv[3]));
