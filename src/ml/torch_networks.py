"""The project's networks written in PyTorch (NCHW), with the project's layer names, and the
project's seeded generator. Shared by the cross-framework checks (test/ml/torch_check.py) and the
PyTorch sweep benchmark (bench/torch_sweep.py); each finds this file relative to its own path.

Importing this module imports torch: size the thread pools (OMP_NUM_THREADS, MKL_NUM_THREADS …)
before importing it, as OpenMP and MKL read them once, at load.

  vgg16_blocks / resnet50_blocks   a network as named blocks (src/ml/models/vgg16.ts, resnet50.ts)
  bottleneck_block                 the I-SPLIT bottleneck as the project builds it (src/ml/bottleneck.ts)
  decoder_output_padding           its decoder's output paddings along one axis (src/ml/bottleneck-geometry.ts)
  Net                              blocks run in order; forward(x, start, stop) runs a slice of them
  derive_seed, Rng, shuffled       src/util/random.ts, number for number
  SeededDropout                    dropout with the project's seeded masks (src/ml/models/dropout.ts)
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# ----------------------------------------------------------------------------------------------
# The project's seeded generator (src/util/random.ts)

M32 = 0xFFFFFFFF


def imul(a, b):
    return (a * b) & M32


def derive_seed(seed, *labels):
    h = 0x811c9dc5
    for part in [str(seed)] + [str(x) for x in labels]:
        for ch in part:
            h ^= ord(ch)
            h = imul(h, 0x01000193)
        h ^= 0x2f
        h = imul(h, 0x01000193)
    h ^= h >> 16
    h = imul(h, 0x85ebca6b)
    h ^= h >> 13
    h = imul(h, 0xc2b2ae35)
    h ^= h >> 16
    return h


class Rng:
    def __init__(self, seed):
        s = seed & M32
        words = []
        for _ in range(4):
            s = (s + 0x9e3779b9) & M32
            z = s
            z = imul(z ^ (z >> 16), 0x85ebca6b)
            z = imul(z ^ (z >> 13), 0xc2b2ae35)
            words.append((z ^ (z >> 16)) & M32)
        self.a, self.b, self.c, self.d = words
        for _ in range(12):
            self.next_uint32()

    def next_uint32(self):
        t = (self.a + self.b + self.d) & M32
        self.d = (self.d + 1) & M32
        self.a = self.b ^ (self.b >> 9)
        self.b = (self.c + (self.c << 3)) & M32
        self.c = ((self.c << 21) | (self.c >> 11)) & M32
        self.c = (self.c + t) & M32
        return t

    def next(self):
        return self.next_uint32() / 4294967296.0


def shuffled(items, rng):
    """A shuffled copy of `items` (Fisher-Yates from the end), as src/util/random.ts `shuffled`."""
    out = list(items)
    for i in range(len(out) - 1, 0, -1):
        j = math.floor(rng.next() * (i + 1))
        out[i], out[j] = out[j], out[i]
    return out


class SeededDropout(nn.Module):
    """Dropout whose k-th training call uses the project's mask stream for (seed, name, k)."""

    def __init__(self, name, seed, rate=0.5):
        super().__init__()
        self.name, self.seed, self.rate, self.calls = name, seed, rate, 0

    def forward(self, x):
        if not self.training:
            return x
        rng = Rng(derive_seed(self.seed, self.name, self.calls))
        self.calls += 1
        keep = [1.0 if rng.next() >= self.rate else 0.0 for _ in range(x.numel())]
        return x * torch.tensor(keep, dtype=x.dtype).reshape(x.shape) * (1.0 / (1.0 - self.rate))


# ----------------------------------------------------------------------------------------------
# The project's networks in PyTorch (NCHW), with their layer names

VGG_STAGES = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]
RESNET_LAYOUT = [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]


def scaled(base, width):
    return int(math.floor(base * width + 0.5))


class NhwcFlatten(nn.Module):
    def forward(self, x):
        return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)


def vgg16_blocks(width, classes, in_ch, side, seed, dropout=None):
    """VGG16 (configuration D) as (name, modules, function) blocks: one per cut point, then the
    classifier. `dropout(name)` makes the classifier's two dropout layers; by default the
    project's seeded ones (SeededDropout), which repeat its masks exactly but draw them in Python."""
    if dropout is None:
        def dropout(name):
            return SeededDropout(name, seed)
    blocks, c = [], in_ch
    for s, (base, convs) in enumerate(VGG_STAGES):
        f = scaled(base, width)
        for j in range(convs):
            blocks.append((f'block{s + 1}_conv{j + 1}', {f'block{s + 1}_conv{j + 1}': nn.Conv2d(c, f, 3, padding=1)},
                           lambda m, x, n=f'block{s + 1}_conv{j + 1}': F.relu(m[n](x))))
            c = f
        blocks.append((f'block{s + 1}_pool', {}, lambda m, x: F.max_pool2d(x, 2)))
        side //= 2
    fc = scaled(4096, width)
    head = {'fc1': nn.Linear(c * side * side, fc), 'fc1_dropout': dropout('fc1_dropout'),
            'fc2': nn.Linear(fc, fc), 'fc2_dropout': dropout('fc2_dropout'),
            'predictions': nn.Linear(fc, classes)}

    def classifier(m, x):
        x = NhwcFlatten()(x)
        x = m['fc1_dropout'](F.relu(m['fc1'](x)))
        x = m['fc2_dropout'](F.relu(m['fc2'](x)))
        return m['predictions'](x)
    blocks.append(('classifier', head, classifier))
    return blocks


def bn(c):
    return nn.BatchNorm2d(c, eps=1e-5, momentum=0.1)


def resnet50_blocks(width, classes, in_ch):
    stem = scaled(64, width)
    blocks = [('conv1', {'conv1_conv': nn.Conv2d(in_ch, stem, 7, 2, 3, bias=False), 'conv1_bn': bn(stem)},
               lambda m, x: F.relu(m['conv1_bn'](m['conv1_conv'](x)))),
              ('maxpool', {}, lambda m, x: F.max_pool2d(x, 3, 2, 1))]
    c = stem
    for i, (planes, count, stride) in enumerate(RESNET_LAYOUT):
        p = scaled(planes, width)
        for j in range(count):
            name, s, out = f'layer{i + 1}_{j + 1}', stride if j == 0 else 1, p * 4
            mods = {f'{name}_conv1': nn.Conv2d(c, p, 1, bias=False), f'{name}_bn1': bn(p),
                    f'{name}_conv2': nn.Conv2d(p, p, 3, s, 1, bias=False), f'{name}_bn2': bn(p),
                    f'{name}_conv3': nn.Conv2d(p, out, 1, bias=False), f'{name}_bn3': bn(out)}
            down = s != 1 or c != out
            if down:
                mods[f'{name}_down_conv'] = nn.Conv2d(c, out, 1, s, bias=False)
                mods[f'{name}_down_bn'] = bn(out)

            def block(m, x, n=name, down=down):
                h = F.relu(m[f'{n}_bn1'](m[f'{n}_conv1'](x)))
                h = F.relu(m[f'{n}_bn2'](m[f'{n}_conv2'](h)))
                h = m[f'{n}_bn3'](m[f'{n}_conv3'](h))
                skip = m[f'{n}_down_bn'](m[f'{n}_down_conv'](x)) if down else x
                return F.relu(h + skip)
            blocks.append((name, mods, block))
            c = out
    blocks.append(('classifier', {'fc': nn.Linear(c, classes)},
                   lambda m, x: m['fc'](torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))))
    return blocks


def code_size(n):
    """Rows of the bottleneck's code: two 3x3, stride-2, padding-1 convolutions (ceil twice)."""
    once = lambda k: (k + 2 - 3) // 2 + 1  # noqa: E731
    return once(once(n))


def decoder_output_padding(n):
    """Output paddings (first, second) of the decoder's transposed convolutions along an axis of
    n rows: the reference's first fix whose output has n rows (src/ml/bottleneck-geometry.ts)."""
    return {0: (1, 1), 1: (1, 0), 2: (0, 1), 3: (0, 0)}[4 * code_size(n) - n]


def bottleneck_block(c, ratio, expansion, op_rows, op_cols):
    """The project's bottleneck with PyTorch layers: the reference's, per-axis output padding."""
    f = int(round(c / ratio))
    e = f * expansion
    enc = {'bottleneck_enc_conv1': nn.Conv2d(c, f, 3, 2, 1), 'bottleneck_enc_bn1': bn(f),
           'bottleneck_enc_conv2': nn.Conv2d(f, e, 3, 2, 1), 'bottleneck_enc_bn2': bn(e)}
    dec = {'bottleneck_dec_convt1': nn.ConvTranspose2d(e, f, 3, 2, 1, output_padding=(op_rows[0], op_cols[0])),
           'bottleneck_dec_bn1': bn(f),
           'bottleneck_dec_convt2': nn.ConvTranspose2d(f, c, 3, 2, 1, output_padding=(op_rows[1], op_cols[1]))}

    def encode(m, x):
        x = F.relu(m['bottleneck_enc_bn1'](m['bottleneck_enc_conv1'](x)))
        return F.relu(m['bottleneck_enc_bn2'](m['bottleneck_enc_conv2'](x)))

    def decode(m, x):
        x = F.relu(m['bottleneck_dec_bn1'](m['bottleneck_dec_convt1'](x)))
        return m['bottleneck_dec_convt2'](x)
    return ('encoder', enc, encode), ('decoder', dec, decode)


class Net(nn.Module):
    def __init__(self, blocks):
        super().__init__()
        self.mods = nn.ModuleDict()
        self.blocks = []
        for name, mods, fn in blocks:
            for k, m in mods.items():
                self.mods[k] = m
            self.blocks.append((name, fn))

    def forward(self, x, start=0, stop=None):
        for _, fn in self.blocks[start:stop]:
            x = fn(self.mods, x)
        return x
