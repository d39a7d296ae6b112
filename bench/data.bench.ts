// Dataset benchmarks (npm run bench:data):
//  1. preprocessing throughput of 64×64 JPEGs (files/s wall, files per CPU-second = per core),
//     with the peak resident memory while preprocessing;
//  2. reopening a cached 100,000-image prepared dataset (generated once in the temp folder);
//  3. the synthetic demo set is learnable: a small CNN (PyTorch, when python3-torch is installed)
//     trained a few epochs on configs/datasets/synthetic-demo.yaml, test accuracy per epoch.
// Goals: ≥ 1,000 JPEGs/s per core; reopening < 1 s.
import { $ } from 'zx';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { parse } from 'yaml';
import { drawPattern } from '../src/data/draw.js';
import { prepareDataset } from '../src/data/prepare.js';
import { openPrepared } from '../src/data/prepared.js';
import { PREPARED_FORMAT } from '../src/data/prepared-meta.js';
import { rng } from '../src/util/random.js';

const JPEGS = Number(process.env.SEI_BENCH_JPEGS ?? 4000);
const CACHED = 100_000;

async function makeJpegs(dir: string, n: number, classes = 10): Promise<void> {
  for (let c = 0; c < classes; c++) mkdirSync(join(dir, `class${c}`), { recursive: true });
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    const px = drawPattern(c, 64, 64, 3, i, 0.1);
    writeFileSync(join(dir, `class${c}`, `img_${i}.JPEG`), await sharp(Buffer.from(px), { raw: { width: 64, height: 64, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
  }
}

/** Samples RSS every 10 ms while `fn` runs; returns its result, wall and CPU seconds, peak RSS. */
async function measure<T>(fn: () => Promise<T>): Promise<{ result: T; wall: number; cpu: number; peakRss: number; baseRss: number }> {
  const baseRss = process.memoryUsage.rss();
  let peakRss = baseRss;
  const timer = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()); }, 10);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    const result = await fn();
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(cpu0);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    return { result, wall, cpu: (c.user + c.system) / 1e6, peakRss, baseRss };
  } finally {
    clearInterval(timer);
  }
}

const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;

async function main(): Promise<void> {
  console.log(`data bench: node ${process.version}, ${cpus().length} cores, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`);
  const work = join(tmpdir(), `sei-bench-data-${process.pid}`);
  mkdirSync(work, { recursive: true });
  try {
    // 1. JPEG preprocessing.
    const src = join(work, 'jpegs');
    await makeJpegs(src, JPEGS);
    console.log(`\n1. preprocessing ${JPEGS} 64×64 JPEGs (imagefolder, decode + resize + write)`);
    for (const [resolution, concurrency] of [[64, 8], [32, 8], [32, 4], [32, 16]] as const) {
      const out = join(work, `out-${resolution}-${concurrency}`);
      const m = await measure(() => prepareDataset({ kind: 'imagefolder', path: src, resolution, channels: 3, split: { testFraction: 0.2, seed: 0 } }, out, { concurrency }));
      const n = m.result.splits.train.count + m.result.splits.test.count;
      console.log(`   → ${resolution}×${resolution}×3, ${concurrency} in flight: ${(n / m.wall).toFixed(0)} files/s wall, ${(n / m.cpu).toFixed(0)} files per CPU-second (per core); ` +
        `peak RSS ${mb(m.peakRss)} (start ${mb(m.baseRss)}, +${mb(m.peakRss - m.baseRss)})`);
      rmSync(out, { recursive: true, force: true });
    }

    // 2. Reopening a cached 100,000-image dataset.
    const cached = join(tmpdir(), 'sei-bench-prepared-100k');
    const marker = join(cached, 'meta.json');
    if (!existsSync(marker) || !readFileSync(marker, 'utf8').includes(PREPARED_FORMAT)) {
      rmSync(cached, { recursive: true, force: true });
      const m = await measure(() => prepareDataset({ kind: 'synthetic', resolution: 32, channels: 3, synthetic: { classes: 10, perClass: CACHED / 10 - 1000, testPerClass: 1000, seed: 0 } }, cached));
      console.log(`\n   (generated the ${CACHED}-image synthetic dataset once in ${m.wall.toFixed(1)} s, peak RSS ${mb(m.peakRss)}: ${cached})`);
    }
    console.log(`\n2. reopening the cached ${CACHED}-image prepared dataset (32×32×3, ${mb(CACHED * 3072)} of pixels)`);
    const times: number[] = [];
    let batchMs = 0;
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      const ds = openPrepared(cached);
      times.push(performance.now() - t0);
      const r = rng(k);
      const idx = Array.from({ length: 128 }, () => Math.floor(r() * ds.splits.train.count));
      const t1 = performance.now();
      ds.splits.train.readImages(idx);
      batchMs += performance.now() - t1;
      if (k === 0) console.log(`   images: train ${ds.splits.train.count}, test ${ds.splits.test.count}`);
      ds.close();
    }
    times.sort((a, b) => a - b);
    console.log(`   → openPrepared: median ${times[2]!.toFixed(1)} ms (min ${times[0]!.toFixed(1)}, max ${times[4]!.toFixed(1)}); a random batch of 128 images: ${(batchMs / 5).toFixed(2)} ms`);

    // 3. Learnability of the synthetic demo set.
    await learnability(work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const PROBE = `
import json, sys, numpy as np, torch, torch.nn as nn
torch.manual_seed(0); torch.set_num_threads(1)
d = sys.argv[1]; meta = json.load(open(d + '/meta.json'))
H, W, C, K = meta['height'], meta['width'], meta['channels'], len(meta['classes'])
def load(s):
    x = np.fromfile(f"{d}/{s}.images.u8", dtype=np.uint8).reshape(-1, H, W, C)
    y = np.fromfile(f"{d}/{s}.labels.i32", dtype='<i4')
    return torch.tensor(x).permute(0, 3, 1, 2).float() / 255., torch.tensor(y).long()
xtr, ytr = load('train'); xte, yte = load('test')
net = nn.Sequential(nn.Conv2d(C, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * (H // 8) * (W // 8), 64), nn.ReLU(), nn.Linear(64, K))
opt = torch.optim.Adam(net.parameters(), 1e-3)
for ep in range(6):
    perm = torch.randperm(len(xtr))
    for i in range(0, len(xtr), 64):
        idx = perm[i:i + 64]; opt.zero_grad(); nn.functional.cross_entropy(net(xtr[idx]), ytr[idx]).backward(); opt.step()
    with torch.no_grad(): acc = (net(xte).argmax(1) == yte).float().mean().item()
    print(f"   epoch {ep + 1}: test accuracy {acc:.3f} (chance {1 / K:.3f})", flush=True)
`;

async function learnability(work: string): Promise<void> {
  console.log('\n3. learnability of configs/datasets/synthetic-demo.yaml (small CNN: 3 conv + 2 dense, Adam 1e-3, batch 64; PyTorch)');
  const python = '/usr/bin/python3';
  const check = await $({ nothrow: true, quiet: true })`${python} -c ${'import torch, numpy'}`;
  if (check.exitCode !== 0) {
    console.log('   skipped: /usr/bin/python3 with torch and numpy not found (Debian python3-torch)');
    return;
  }
  const spec = parse(readFileSync(join(import.meta.dirname ?? '.', '..', '..', 'configs', 'datasets', 'synthetic-demo.yaml'), 'utf8'));
  const out = join(work, 'synthetic-demo');
  const m = await measure(() => prepareDataset(spec, out));
  console.log(`   prepared ${m.result.splits.train.count} train / ${m.result.splits.val.count} val / ${m.result.splits.test.count} test images in ${m.wall.toFixed(2)} s`);
  const r = await $({ nothrow: true, quiet: true })`${python} -c ${PROBE} ${out}`;
  process.stdout.write(r.stdout);
  if (r.exitCode !== 0) console.log(`   probe failed: ${r.stderr.trim().split('\n').pop()}`);
}

await main();
