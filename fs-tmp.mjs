import { initBackend } from './dist/src/ml/backend.js';
import { measureSteps } from './dist/src/ml/full-size.js';
await initBackend('wasm');
const arch = process.argv[2], micro = +process.argv[3], batch = +process.argv[4], steps = +(process.argv[5] ?? 1);
const t0 = Date.now();
const r = measureSteps({ arch, input: 224, batch, microBatch: micro }, steps, (i, s) => console.log('step', i, s.toFixed(1), 's'));
console.log(JSON.stringify(r), 'GiB', (r.peakHeapBytes / 2**30).toFixed(2), 'total s', (Date.now()-t0)/1000);
