#!/usr/bin/env python3
"""The I-SPLIT Fashion-MNIST study (pipelines/isplit-fashion-mnist.yaml) in plain PyTorch, for
timing beside `sei run`: one process, --threads threads, one model at a time, and no caching of
the frozen head's outputs (every retraining step runs the whole network forward).

Needs Debian's python3-torch (apt-get install python3-torch), run with /usr/bin/python3.

For each class subset of the pipeline (all ten classes; T-shirt/top, Pullover, Coat, Shirt;
Sandal, Sneaker, Bag, Ankle boot):
  data           the IDX train and t10k files; the subset's classes, re-labelled 0..k-1; at most
                 --max-per-class images a class in train and test, 10 % of train carved out as
                 validation, by the project's seeded choices (src/data/splits.ts, its generator
                 ported number for number), so the images are the ones `sei run` prepares;
                 28x28 gray -> 32x32 bilinear (src/data/resample.ts, same arithmetic), 3 channels;
                 x = (u8 / 255 - mean) / std with ImageNet's mean and std (src/ml/feed.ts).
  train-base     VGG16 at width 0.125 (src/ml/torch_networks.py, the project's definition), Adam
                 lr 0.001, batch 32, cosine schedule per epoch, 10 epochs, early stopping on the
                 validation loss with patience 3 (the best epoch's weights restored); test accuracy.
  importance     the CUI curve at all 18 cut points on the first 32 training images of each class
                 (gradient of the true class's logit; network in inference mode; batches of 16).
  split-retrain  for each of the 7 cuts, the bottleneck (ratio 8, expansion 2) inserted and only it
                 trained (head and tail frozen in inference mode, the bottleneck's batch norms in
                 training mode): Adam lr 0.002, batch 32, cosine, 3 epochs, early stopping on the
                 validation accuracy with patience 2 (best epoch restored).
  evaluate       test accuracy of each split network (batch 64) with the code sent as fp32, fp16
                 and int8 (per image, one scale), and the median of 10 timed batch-1 forward
                 passes (after 2 warm-up ones) of the device side, the server side and the unsplit
                 network.
The pipeline's validate, compare-subsets, simulate and recommend stages are not run: they are not
machine learning (a bootstrap over stored predictions, network simulation, a ranking).

Where this differs from the project on purpose (the plain way): weight initialisation, batch
order and dropout masks come from torch's generator (torch.manual_seed; same distributions as
the project's, other draws), so accuracies match the tool's statistically, not number for number.

Usage: torch_sweep.py [--threads 2] [--max-per-class 600] [--data DIR] [--subsets all|first]
                      [--json] [--print-protocol]
Prints per phase wall seconds, total wall and CPU seconds of the process, and per subset the base
test accuracy and each cut's retrained test accuracy: a table, or one JSON object with --json.
Progress goes to stderr.
"""
import time

STARTED = time.perf_counter()

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import struct  # noqa: E402
import sys  # noqa: E402

LABEL_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']

# The pipeline's parameters as `sei plan` resolves them (pipelines/isplit-fashion-mnist.yaml with
# configs/datasets/fashion-mnist.yaml, configs/models/vgg16-demo.yaml, configs/training/demo.yaml);
# test/bench/torch-sweep.test.ts checks them against the resolved plan.
PROTOCOL = {
    'dataset': {'kind': 'idx', 'path': '/usr/share/datasets/fashion-mnist', 'resolution': 32, 'channels': 3,
                'labelNames': LABEL_NAMES, 'split': {'valFraction': 0.1, 'seed': 0}, 'maxPerClass': 600},
    'subsets': [LABEL_NAMES, ['T-shirt/top', 'Pullover', 'Coat', 'Shirt'], ['Sandal', 'Sneaker', 'Bag', 'Ankle boot']],
    'model': {'arch': 'vgg16', 'width': 0.125, 'inputSize': 32},
    'base': {'epochs': 10, 'batchSize': 32, 'optimizer': 'adam', 'learningRate': 0.001, 'schedule': {'kind': 'cosine'},
             'weightDecay': 0, 'earlyStopping': {'patience': 3, 'metric': 'valLoss'}, 'augment': {'flip': False}, 'seed': 0},
    'importance': {'target': 'label', 'imagesPerClass': 32, 'readPoint': 'post-activation', 'candidates': 'strict',
                   'split': 'train', 'batchSize': 16},
    'retrain': {'cuts': ['block1_pool', 'block2_conv2', 'block2_pool', 'block3_conv3', 'block3_pool', 'block4_pool', 'block5_pool'],
                'seed': 0, 'bottleneck': {'ratio': 8, 'expansion': 2}, 'regime': 'bottleneck',
                'training': {'epochs': 3, 'batchSize': 32, 'optimizer': 'adam', 'learningRate': 0.002, 'schedule': {'kind': 'cosine'},
                             'weightDecay': 0, 'earlyStopping': {'patience': 2, 'metric': 'valAccuracy'}, 'augment': {'flip': False}}},
    'evaluate': {'batchSize': 64, 'timing': {'warmup': 2, 'repeats': 10}},
}
# The model's input normalisation: ImageNet statistics for 3 channels (src/ml/spec.ts defaultNormalize).
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
PHASES = ('data', 'train-base', 'importance', 'split-retrain', 'evaluate')


def parse_args():
    p = argparse.ArgumentParser(description='The I-SPLIT Fashion-MNIST study in plain PyTorch (timing reference).')
    p.add_argument('--threads', type=int, default=2, help='intra-op threads (OpenMP/MKL pools sized before torch loads)')
    p.add_argument('--max-per-class', type=int, default=PROTOCOL['dataset']['maxPerClass'],
                   help='images a class in each split (the pipeline: 600; 0: no cap)')
    p.add_argument('--data', default=PROTOCOL['dataset']['path'], help='folder of the Fashion-MNIST IDX files')
    p.add_argument('--subsets', choices=['all', 'first'], default='all', help='first: only the ten-class subset')
    p.add_argument('--json', action='store_true', help='one JSON object on stdout')
    p.add_argument('--print-protocol', action='store_true', help='print the protocol as JSON and exit (torch not needed)')
    a = p.parse_args()
    if a.threads < 1:
        p.error('--threads must be at least 1')
    if a.max_per_class < 0:
        p.error('--max-per-class must be 0 (no cap) or more')
    return a


ARGS = parse_args()
if ARGS.print_protocol:
    json.dump(PROTOCOL, sys.stdout, indent=1)
    print()
    sys.exit(0)

# Thread pools sized before numpy and torch load: OpenMP, MKL and OpenBLAS read these once.
for _name in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'):
    os.environ[_name] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(ARGS.threads)
torch.set_num_interop_threads(ARGS.threads)

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'ml'))
from torch_networks import Net, Rng, bottleneck_block, decoder_output_padding, derive_seed, shuffled, vgg16_blocks  # noqa: E402

STARTUP = time.perf_counter() - STARTED


def log(message):
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# data: the IDX files, the project's class subset, caps and validation carve, resampling

def read_idx(folder, stem):
    """uint8 array of an IDX file (raw preferred over .gz, as the project's loader does)."""
    path = os.path.join(folder, stem)
    if not os.path.exists(path):
        path += '.gz'
    with open(path, 'rb') as fh:
        raw = fh.read()
    if raw[:2] == b'\x1f\x8b':
        raw = gzip.decompress(raw)
    magic = struct.unpack('>I', raw[:4])[0]
    if magic == 0x803:
        n, rows, cols = struct.unpack('>III', raw[4:16])
        return np.frombuffer(raw, np.uint8, offset=16).reshape(n, rows, cols)
    if magic == 0x801:
        return np.frombuffer(raw, np.uint8, offset=8)
    raise SystemExit(f'{path}: not an IDX file (magic 0x{magic:08x})')


def js_round(x):
    """JavaScript's Math.round: to the nearest integer, halves up."""
    r = math.floor(x)
    return r + 1 if x - r >= 0.5 else r


def positions_by_class(labels):
    out = {}
    for i, label in enumerate(labels):
        out.setdefault(label, []).append(i)
    return out


def cap_per_class(labels, cap, seed, tag):
    """Positions kept: at most `cap` a class, a seeded choice, in order (splits.ts capPerClass)."""
    keep = set()
    for label, idx in positions_by_class(labels).items():
        keep.update(idx if len(idx) <= cap else shuffled(idx, Rng(derive_seed(seed, tag, label)))[:cap])
    return sorted(keep)


def stratified_carve(labels, fraction, seed, tag):
    """(kept, carved) positions: per class round(n * fraction) carved, seeded (splits.ts stratifiedCarve)."""
    out = set()
    for label, idx in positions_by_class(labels).items():
        n = min(len(idx) - 1, max(1, js_round(len(idx) * fraction))) if len(idx) >= 2 else 0
        out.update(shuffled(idx, Rng(derive_seed(seed, tag, label)))[:n])
    return [i for i in range(len(labels)) if i not in out], sorted(out)


def axis_taps(length, target):
    """Source indices and float32 weights per target index along one axis (resample.ts taps)."""
    scale = length / target
    rows = []
    for j in range(target):
        taps = []
        if scale >= 1:  # box filter: exact overlap weights
            a = j * scale
            b = a + scale
            i = math.floor(a)
            while i < math.ceil(b) and i < length:
                w = min(b, i + 1) - max(a, i)
                if w > 1e-9:
                    taps.append((i, w / scale))
                i += 1
        else:  # bilinear, pixel centres aligned, clamped at the edges
            x = min(length - 1, max(0, (j + 0.5) * scale - 0.5))
            i0 = math.floor(x)
            f = x - i0
            taps.append((i0, 1 - f))
            if f > 0 and i0 + 1 < length:
                taps.append((i0 + 1, f))
        rows.append(taps)
    width = max(len(t) for t in rows)
    index = np.zeros((target, width), np.int64)
    weight = np.zeros((target, width), np.float32)  # padding taps weigh 0: adding 0 changes nothing
    for j, taps in enumerate(rows):
        for t, (i, w) in enumerate(taps):
            index[j, t], weight[j, t] = i, w
    return index, weight.astype(np.float64)


def resample(images, size):
    """N x h x w x c uint8 -> N x size x size x c uint8 with the project's arithmetic: horizontal
    pass summed in float64 and stored as float32, vertical pass in float64, rounded halves up."""
    n, h, w, c = images.shape
    if (h, w) == (size, size):
        return images
    ix, wx = axis_taps(w, size)
    iy, wy = axis_taps(h, size)
    src = images.astype(np.float64)
    tmp = np.zeros((n, h, size, c))
    for t in range(ix.shape[1]):
        tmp += wx[None, None, :, t, None] * src[:, :, ix[:, t], :]
    tmp = tmp.astype(np.float32).astype(np.float64)
    acc = np.zeros((n, size, size, c))
    for t in range(iy.shape[1]):
        acc += wy[None, :, t, None, None] * tmp[:, iy[:, t], :, :]
    rounded = np.floor(acc)
    rounded += (acc - rounded) >= 0.5
    return np.clip(rounded, 0, 255).astype(np.uint8)


def to_input(u8):
    """N x H x W x 3 uint8 -> N x 3 x H x W float32: (u8 / 255 - mean) / std as one multiply-add
    per value in float64, stored as float32 (src/ml/feed.ts normalizeInto)."""
    a = np.array([1 / (255 * s) for s in STD])
    b = np.array([-m / s for m, s in zip(MEAN, STD)])
    x = (u8.astype(np.float64) * a + b).astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def prepare(raw, names, cap):
    """The subset's three splits as (inputs, labels) tensors, in the project's order."""
    d = PROTOCOL['dataset']
    seed, val_fraction = d['split']['seed'], d['split']['valFraction']
    keep = sorted(LABEL_NAMES.index(n) for n in names)  # chosen classes keep the dataset's order
    relabel = {orig: new for new, orig in enumerate(keep)}

    def pick(images, labels):
        idx = [i for i, label in enumerate(labels.tolist()) if label in relabel]
        return idx, [relabel[labels[i]] for i in idx]
    train_idx, train_lab = pick(*raw['train'])
    test_idx, test_lab = pick(*raw['test'])
    if cap:
        kept = cap_per_class(train_lab, cap, seed, 'cap-train')
        train_idx, train_lab = [train_idx[i] for i in kept], [train_lab[i] for i in kept]
    kept, carved = stratified_carve(train_lab, val_fraction, seed, 'val')
    val_idx, val_lab = [train_idx[i] for i in carved], [train_lab[i] for i in carved]
    train_idx, train_lab = [train_idx[i] for i in kept], [train_lab[i] for i in kept]
    if cap:
        kept = cap_per_class(test_lab, cap, seed, 'cap-test')
        test_idx, test_lab = [test_idx[i] for i in kept], [test_lab[i] for i in kept]

    def tensors(split, idx, lab):
        gray = raw[split][0][idx][..., None]  # N x 28 x 28 x 1
        rgb = np.repeat(gray, d['channels'], axis=3)  # gray -> 3 channels, then resized
        return to_input(resample(rgb, d['resolution'])), torch.tensor(lab, dtype=torch.long)
    return {'train': tensors('train', train_idx, train_lab), 'val': tensors('train', val_idx, val_lab),
            'test': tensors('test', test_idx, test_lab), 'classes': len(keep)}


# ----------------------------------------------------------------------------------------------
# training, evaluation

def init_like_project(modules):
    """The project's initialisers (src/ml/models/network.ts initWeights), drawn from torch's generator:
    convolutions Kaiming-normal (fan-out, ReLU) with zero bias, VGG's dense layers N(0, 0.01)
    with zero bias; transposed convolutions and batch norm keep PyTorch's defaults, as there."""
    for m in modules:
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.01)
            nn.init.zeros_(m.bias)


@torch.no_grad()
def evaluate(net, x, y, batch):
    """Mean cross-entropy and accuracy in inference mode."""
    net.eval()
    loss, right = 0.0, 0
    for s in range(0, len(y), batch):
        logits = net(x[s:s + batch])
        loss += float(F.cross_entropy(logits, y[s:s + batch], reduction='sum'))
        right += int((logits.argmax(1) == y[s:s + batch]).sum())
    return loss / len(y), right / len(y)


def fit(net, trainable, set_modes, mutable, data, t, seed, what):
    """Adam with a per-epoch cosine schedule; validation each epoch; early stopping that keeps the
    best epoch's weights (src/ml/train/train.ts). `mutable(key)`: state-dict keys training can change."""
    if t['optimizer'] != 'adam' or t['schedule'] != {'kind': 'cosine'} or t['augment']['flip']:
        raise SystemExit(f'{what}: only Adam with a plain cosine schedule and no augmentation is implemented here')
    x, y = data['train']
    vx, vy = data['val']
    opt = torch.optim.Adam(trainable, lr=t['learningRate'], betas=(0.9, 0.999), eps=1e-8, weight_decay=t['weightDecay'])
    order = torch.Generator().manual_seed(seed)
    es = t['earlyStopping']
    better = (lambda a, b: a < b) if es['metric'] == 'valLoss' else (lambda a, b: a > b)
    best, best_value, best_epoch, since, stopped, history = None, None, 0, 0, False, []
    for epoch in range(1, t['epochs'] + 1):
        started = time.perf_counter()
        lr = t['learningRate'] * (1 + math.cos(math.pi * (epoch - 1) / t['epochs'])) / 2
        for group in opt.param_groups:
            group['lr'] = lr
        set_modes()
        perm = torch.randperm(len(y), generator=order)
        loss_sum, right = 0.0, 0
        for s in range(0, len(y), t['batchSize']):
            idx = perm[s:s + t['batchSize']]
            opt.zero_grad()
            logits = net(x[idx])
            loss = F.cross_entropy(logits, y[idx])
            loss.backward()
            opt.step()
            loss_sum += float(loss) * len(idx)
            right += int((logits.argmax(1) == y[idx]).sum())
        val_loss, val_acc = evaluate(net, vx, vy, max(t['batchSize'], 64))
        history.append({'epoch': epoch, 'loss': loss_sum / len(y), 'accuracy': right / len(y), 'valLoss': val_loss, 'valAccuracy': val_acc})
        log(f'{what} epoch {epoch}/{t["epochs"]}: loss {loss_sum / len(y):.4f} acc {right / len(y):.4f} '
            f'val_loss {val_loss:.4f} val_acc {val_acc:.4f} lr {lr:.2e} ({time.perf_counter() - started:.1f} s)')
        value = val_loss if es['metric'] == 'valLoss' else val_acc
        if best_value is None or better(value, best_value):
            best_value, best_epoch, since = value, epoch, 0
            best = {k: v.detach().clone() for k, v in net.state_dict().items() if mutable(k)}
        else:
            since += 1
            if since >= es['patience']:
                stopped = True
                break
    if best is not None and best_epoch != len(history):
        net.load_state_dict(best, strict=False)
    return {'epochs': len(history), 'bestEpoch': best_epoch, 'stoppedEarly': stopped,
            'valAccuracy': history[best_epoch - 1]['valAccuracy'], 'history': history}


def cui_curve(net, cut_names, data, p):
    """I-SPLIT importance at every cut: per image, alpha_k = spatial mean of d(logit of the true
    class)/dA_k; value = spatial mean of max(0, mean_k alpha_k A_k); CUI = mean over images."""
    x, y = data[p['split']]
    taken, chosen = {}, []
    for i, label in enumerate(y.tolist()):  # the first imagesPerClass images of each class, in split order
        if taken.get(label, 0) < p['imagesPerClass']:
            chosen.append(i)
            taken[label] = taken.get(label, 0) + 1
    net.eval()
    sums = torch.zeros(len(cut_names), dtype=torch.float64)
    for s in range(0, len(chosen), p['batchSize']):
        idx = torch.tensor(chosen[s:s + p['batchSize']])
        h, acts = x[idx], []
        for name, fn in net.blocks:
            h = fn(net.mods, h)
            if name in cut_names:
                acts.append(h)
        score = h.gather(1, y[idx][:, None]).sum()  # images are independent in inference mode
        grads = torch.autograd.grad(score, acts)
        for c, (a, g) in enumerate(zip(acts, grads)):
            alpha = g.double().mean(dim=(2, 3))
            weighted = (alpha[:, :, None, None] * a.detach().double()).mean(dim=1)
            sums[c] += weighted.clamp(min=0).mean(dim=(1, 2)).sum()
    cui = (sums / len(chosen)).tolist()
    logs = [math.log10(v) if v > 0 else -math.inf for v in cui]
    best = max(range(len(logs)), key=lambda i: (logs[i], -i))
    candidates = [cut_names[i] for i in range(1, len(logs) - 1) if logs[i] > logs[i - 1] and logs[i] > logs[i + 1]]
    return {'images': len(chosen), 'cutPoints': cut_names, 'cui': cui, 'best': cut_names[best], 'candidates': candidates}


def quantise(code, precision):
    """What the server receives: fp32 as is, fp16 rounded, int8 with one scale per image (max|x| / 127)."""
    if precision == 'fp16':
        return code.half().float()
    if precision == 'int8':
        flat = code.reshape(len(code), -1)
        scale = flat.abs().amax(dim=1, keepdim=True) / 127
        scale[scale == 0] = 1
        return ((flat / scale).round().clamp(-127, 127) * scale).reshape(code.shape)
    return code


@torch.no_grad()
def batch1_ms(run, shape, timing):
    """Median milliseconds of batch-1 forward passes on one random input, after warm-up runs."""
    x = torch.randn(1, *shape)
    for _ in range(timing['warmup']):
        run(x)
    ms = []
    for _ in range(timing['repeats']):
        t0 = time.perf_counter()
        run(x)
        ms.append((time.perf_counter() - t0) * 1000)
    ms.sort()
    mid = len(ms) // 2
    return ms[mid] if len(ms) % 2 else (ms[mid - 1] + ms[mid]) / 2


# ----------------------------------------------------------------------------------------------
# the study

def run_subset(raw, names, phases):
    clock = time.perf_counter()

    def lap(phase):
        nonlocal clock
        now = time.perf_counter()
        phases[phase] += now - clock
        clock = now

    out = {'classes': names}
    data = prepare(raw, names, ARGS.max_per_class)
    out['counts'] = {k: len(data[k][1]) for k in ('train', 'val', 'test')}
    log(f'subset {", ".join(names)}: train {out["counts"]["train"]}, val {out["counts"]["val"]}, test {out["counts"]["test"]}')
    lap('data')

    m, bt = PROTOCOL['model'], PROTOCOL['base']
    torch.manual_seed(bt['seed'])
    blocks = vgg16_blocks(m['width'], data['classes'], 3, m['inputSize'], bt['seed'], dropout=lambda name: nn.Dropout(0.5))
    base = Net(blocks)
    init_like_project(base.modules())
    result = fit(base, list(base.parameters()), base.train, lambda k: True, data, bt, bt['seed'], 'base')
    result['testAccuracy'] = evaluate(base, *data['test'], PROTOCOL['evaluate']['batchSize'])[1]
    out['base'] = result
    log(f'base: test accuracy {result["testAccuracy"]:.4f} after {result["epochs"]} epochs (best {result["bestEpoch"]})')
    lap('train-base')

    names_in_order = [name for name, _ in base.blocks]
    cut_names = names_in_order[:-1]  # every block but the classifier ends at a cut point
    out['importance'] = cui_curve(base, cut_names, data, PROTOCOL['importance'])
    log(f'importance: best {out["importance"]["best"]}, candidates {", ".join(out["importance"]["candidates"])}')
    lap('importance')

    r, ev = PROTOCOL['retrain'], PROTOCOL['evaluate']
    out['cuts'] = []
    for cut in r['cuts']:
        k = names_in_order.index(cut)
        with torch.no_grad():
            _, C, H, W = base(data['train'][0][:1], 0, k + 1).shape
        torch.manual_seed(r['seed'])
        enc, dec = bottleneck_block(C, r['bottleneck']['ratio'], r['bottleneck']['expansion'],
                                    decoder_output_padding(H), decoder_output_padding(W))
        split = Net(blocks[:k + 1] + [enc, dec] + blocks[k + 1:])  # the base's layers, shared
        bottleneck = [mod for part in (enc, dec) for mod in part[1].values()]
        init_like_project(bottleneck)
        for p in split.parameters():
            p.requires_grad_(False)
        trainable = [p for mod in bottleneck for p in mod.parameters()]
        for p in trainable:
            p.requires_grad_(True)

        def modes():  # regime 'bottleneck': head and tail in inference mode, the bottleneck training
            split.eval()
            for mod in bottleneck:
                mod.train()
        res = fit(split, trainable, modes, lambda key: key.startswith('mods.bottleneck_'), data, r['training'], r['seed'], f'retrain {cut}')
        lap('split-retrain')

        split.eval()
        x, y = data['test']
        right = {q: 0 for q in ('fp32', 'fp16', 'int8')}
        with torch.no_grad():
            for s in range(0, len(y), ev['batchSize']):
                code = split(x[s:s + ev['batchSize']], 0, k + 2)  # device: head + encoder, run once
                for q in right:
                    logits = split(quantise(code, q), k + 2)  # server: decoder + tail
                    right[q] += int((logits.argmax(1) == y[s:s + ev['batchSize']]).sum())
            code_shape = tuple(code.shape[1:])
        times = {'device': batch1_ms(lambda t: split(t, 0, k + 2), (3, m['inputSize'], m['inputSize']), ev['timing']),
                 'server': batch1_ms(lambda t: split(t, k + 2), code_shape, ev['timing']),
                 'local': batch1_ms(lambda t: base(t), (3, m['inputSize'], m['inputSize']), ev['timing'])}
        acc = {q: right[q] / len(y) for q in right}
        out['cuts'].append({'cut': cut, 'cutShape': [H, W, C], 'codeShape': [code_shape[1], code_shape[2], code_shape[0]],
                            'accuracy': acc['fp32'], 'quantizedAccuracy': acc, 'valAccuracy': res['valAccuracy'],
                            'epochs': res['epochs'], 'bestEpoch': res['bestEpoch'], 'timeMs': times})
        log(f'evaluate {cut}: accuracy {acc["fp32"]:.4f} (fp16 {acc["fp16"]:.4f}, int8 {acc["int8"]:.4f}); '
            f'device {times["device"]:.2f} ms, server {times["server"]:.2f} ms')
        lap('evaluate')
    return out


def main():
    phases = {p: 0.0 for p in PHASES}
    t0 = time.perf_counter()
    raw = {'train': (read_idx(ARGS.data, 'train-images-idx3-ubyte'), read_idx(ARGS.data, 'train-labels-idx1-ubyte')),
           'test': (read_idx(ARGS.data, 't10k-images-idx3-ubyte'), read_idx(ARGS.data, 't10k-labels-idx1-ubyte'))}
    phases['data'] += time.perf_counter() - t0
    subsets = PROTOCOL['subsets'][:1] if ARGS.subsets == 'first' else PROTOCOL['subsets']
    results = [run_subset(raw, names, phases) for names in subsets]
    wall = time.perf_counter() - STARTED
    report = {
        'torch': torch.__version__, 'threads': ARGS.threads, 'interopThreads': torch.get_num_interop_threads(),
        'maxPerClass': ARGS.max_per_class, 'data': ARGS.data, 'subsetsRun': ARGS.subsets,
        'phases': phases, 'startup': STARTUP, 'wall': wall, 'cpu': time.process_time(),
        'subsets': results,
    }
    if ARGS.json:
        json.dump(report, sys.stdout)
        print()
        return
    print(f'PyTorch {report["torch"]}, {ARGS.threads} threads; Fashion-MNIST, '
          f'{"at most " + str(ARGS.max_per_class) if ARGS.max_per_class else "all"} images a class and split')
    for p in PHASES:
        print(f'  {p:<14}{phases[p]:9.1f} s')
    print(f'  {"(start-up)":<14}{STARTUP:9.1f} s')
    print(f'total {wall:.1f} s wall, {report["cpu"]:.1f} s CPU ({report["cpu"] / wall:.2f} cores busy on average)')
    for s in results:
        b = s['base']
        print(f'\n{", ".join(s["classes"])} (train {s["counts"]["train"]}, val {s["counts"]["val"]}, test {s["counts"]["test"]})')
        print(f'  base test accuracy {b["testAccuracy"]:.4f} ({b["epochs"]} epochs, best {b["bestEpoch"]}); '
              f'CUI best {s["importance"]["best"]}, candidates {", ".join(s["importance"]["candidates"]) or "none"}')
        print(f'  {"cut":<14}{"accuracy":>9}{"fp16":>8}{"int8":>8}{"epochs":>8}')
        for c in s['cuts']:
            q = c['quantizedAccuracy']
            print(f'  {c["cut"]:<14}{c["accuracy"]:9.4f}{q["fp16"]:8.4f}{q["int8"]:8.4f}{c["epochs"]:8d}')


if __name__ == '__main__':
    main()
