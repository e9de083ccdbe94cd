// Entry point of dist/init.js: `node init.js <sync fd> <host mount-ns fd> [<console socket fd>]`.
// Kept tiny: it is the second Node start-up on every container's path.
import '../trace.js'; // first: MYDOCKER_RUNC_TRACE=1 then times the loading of the rest
import { initMain } from './init.js';

initMain(Number(process.argv[2]), Number(process.argv[3]), process.argv[4] === undefined ? -1 : Number(process.argv[4]));
