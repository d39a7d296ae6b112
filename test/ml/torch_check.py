#!/usr/bin/env python3
"""PyTorch side of the cross-framework checks in test/ml/bottleneck.test.ts and
test/ml/train-equivalence.test.ts. Run with Debian's python3-torch (/usr/bin/python3).

  torch_check.py bottleneck < cases.json   -> JSON on stdout
      cases: [{"H", "W", "C", "ratio", "expansion", "impulses": [[i, j], ...], "boxes": [[i, j], ...]}] (boxes: tent kernels)
      For each case, the I-SPLIT reference bottleneck (AutoEncoderUnderComplete of the published
      code: encoder Conv(3x3, s2, p1)-BN-ReLU twice, decoder ConvTranspose2d(3x3, s2, padding 1,
      output_padding 1)-BN-ReLU-ConvTranspose2d, with its fallbacks tried in its order until the
      output has the input's shape), written here independently: the code and output shapes, the
      trainable parameter count, the fallback flags, and where an impulse comes back.
  torch_check.py train DIR               -> writes DIR/torch.bin + DIR/torch.json
      DIR/job.json + DIR/tensors.bin (raw little-endian float32): a network (VGG16 or ResNet-50 as
      the project defines them, NHWC weights), optionally split with a bottleneck, its initial
      weights, images and labels, the batches of every epoch, and the training settings. Trains
      as torch does (Adam with weight decay as L2, cosine schedule per epoch, BatchNorm2d with
      momentum 0.1, Dropout with the project's seeded masks) and writes every weight back.
"""
import json
import math
import os
import sys

os.environ.setdefault('OMP_NUM_THREADS', '1')
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(1)


# ----------------------------------------------------------------------------------------------
# The reference bottleneck (semantics of vips4/I-Split models/bottlenecks/undercomplete_*.py)

class RefEncoder(nn.Module):
    def __init__(self, c, f, e):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(c, f, 3, stride=2, padding=1), nn.BatchNorm2d(f), nn.ReLU(),
            nn.Conv2d(f, f * e, 3, stride=2, padding=1), nn.BatchNorm2d(f * e), nn.ReLU())

    def forward(self, x):
        return self.net(x)


class RefDecoder(nn.Module):
    def __init__(self, c, f, e, op1, op2, p1, p2):
        super().__init__()
        self.net = nn.Sequential(
            nn.ConvTranspose2d(f * e, f, 3, stride=2, padding=p1, output_padding=op1), nn.BatchNorm2d(f), nn.ReLU(),
            nn.ConvTranspose2d(f, c, 3, stride=2, padding=p2, output_padding=op2))

    def forward(self, x):
        return self.net(x)


# The reference's attempts, in its order: (fix_first, fix_second, fix_first_pad, fix_second_pad).
# A fix_* flag sets that layer's output_padding to 0, a fix_*_pad flag its padding to 0.
ATTEMPTS = [(False, False, False, False), (True, False, False, False), (True, False, True, False),
            (False, True, False, False), (False, True, False, True), (True, True, False, False),
            (True, True, True, True), (False, False, True, False), (False, False, False, False),
            (False, False, True, True)]


class RefAutoEncoder(nn.Module):
    def __init__(self, c, h, w, ratio=8, expansion=2):
        super().__init__()
        self.f = int(round(c / ratio))
        self.encoder = RefEncoder(c, self.f, expansion)
        for m in self.encoder.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                nn.init.constant_(m.bias, 0)
        x = torch.randn(1, c, h, w)
        # The reference tries its decoders in training mode, where batch norm refuses a 1x1 code
        # from one image; inference mode gives the same shapes without that failure.
        self.encoder.eval()
        self.flags = None
        for flags in ATTEMPTS:
            ff, fs, ffp, fsp = flags
            dec = RefDecoder(c, self.f, expansion, 0 if ff else 1, 0 if fs else 1, 0 if ffp else 1, 0 if fsp else 1).eval()
            with torch.no_grad():
                out = dec(self.encoder(x))
            self.decoder = dec
            if out.shape == x.shape:
                self.flags = flags
                break

    def forward(self, x):
        return self.decoder(self.encoder(x))


def centre_tap(conv, transposed):
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.zero_()
        conv.weight[0, 0, 1, 1] = 1.0


def tent(conv, transposed):
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.zero_()
        t = torch.tensor([0.5, 1.0, 0.5])
        conv.weight[0, 0, :, :] = t[:, None] * t[None, :]


def bottleneck_case(case):
    c, h, w = case['C'], case['H'], case['W']
    ae = RefAutoEncoder(c, h, w, case['ratio'], case['expansion'])
    ae.eval()
    with torch.no_grad():
        x = torch.zeros(1, c, h, w)
        code = ae.encoder(x)
        out = ae(x)
    convs = [m for m in ae.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    result = {
        'filters': ae.f,
        'flags': ae.flags,
        'codeShape': [code.shape[2], code.shape[3], code.shape[1]],
        'outputShape': [out.shape[2], out.shape[3], out.shape[1]],
        'params': sum(p.numel() for p in ae.parameters() if p.requires_grad),
    }
    for key, setter in (('impulses', centre_tap), ('boxes', tent)):
        found = []
        positions = case.get(key, [])
        if positions:
            for m in convs:
                setter(m, isinstance(m, nn.ConvTranspose2d))
            x = torch.zeros(len(positions), c, h, w)
            for n, (i, j) in enumerate(positions):
                x[n, 0, i, j] = 1.0
            with torch.no_grad():
                y = ae(x)[:, 0].double()
            for n in range(len(positions)):
                m = y[n]
                flat = int(torch.argmax(m))
                total = float(m.sum())
                rows = torch.arange(h, dtype=torch.float64)[:, None]
                cols = torch.arange(w, dtype=torch.float64)[None, :]
                found.append({
                    'peak': [flat // w, flat % w], 'max': float(m.max()), 'sum': total,
                    'centroid': [float((m * rows).sum()) / total, float((m * cols).sum()) / total] if total > 0 else None,
                })
        result[key] = found
    return result


# ----------------------------------------------------------------------------------------------
# The project's seeded generator (src/util/random.ts), for the dropout masks

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


class Seq(nn.Module):
    """Named layers run in order; `cut` marks the output of a cut point."""

    def __init__(self):
        super().__init__()
        self.items = nn.ModuleDict()
        self.order = []

    def add(self, name, module):
        self.items[name.replace('.', '_')] = module
        self.order.append(name)

    def forward(self, x):
        for n in self.order:
            x = self.items[n](x)
        return x


class NhwcFlatten(nn.Module):
    def forward(self, x):
        return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)


def vgg16_blocks(width, classes, in_ch, side, seed):
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
    head = {'fc1': nn.Linear(c * side * side, fc), 'fc1_dropout': SeededDropout('fc1_dropout', seed),
            'fc2': nn.Linear(fc, fc), 'fc2_dropout': SeededDropout('fc2_dropout', seed),
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


# ----------------------------------------------------------------------------------------------
# Weights in the project's layout (tfjs, NHWC) <-> torch

def to_torch(module, kind, value):
    """A project weight (name suffix `kind`) as the torch parameter of `module`."""
    if isinstance(module, nn.ConvTranspose2d) and kind == 'kernel':
        return value.permute(3, 2, 0, 1)  # [kh, kw, out, in] -> [in, out, kh, kw]
    if isinstance(module, nn.Conv2d) and kind == 'kernel':
        return value.permute(3, 2, 0, 1)  # [kh, kw, in, out] -> [out, in, kh, kw]
    if isinstance(module, nn.Linear) and kind == 'kernel':
        return value.t()
    return value


def slots(module):
    """(project weight name, torch tensor) of a module, in the project's order."""
    if isinstance(module, nn.BatchNorm2d):
        return [('gamma', module.weight), ('beta', module.bias), ('moving_mean', module.running_mean),
                ('moving_variance', module.running_var)]
    out = [('kernel', module.weight)]
    if module.bias is not None:
        out.append(('bias', module.bias))
    return out


def train(folder):
    with open(os.path.join(folder, 'job.json')) as fh:
        job = json.load(fh)
    raw = open(os.path.join(folder, 'tensors.bin'), 'rb').read()

    def tensor(entry):
        t = torch.frombuffer(bytearray(raw[entry['offset']:entry['offset'] + 4 * math.prod(entry['shape'])]),
                             dtype=torch.float32)
        return t.reshape(entry['shape']).clone()

    m = job['model']
    if m['arch'] == 'vgg16':
        blocks = vgg16_blocks(m['width'], m['classes'], m['channels'], m['size'], job['networkSeed'])
    else:
        blocks = resnet50_blocks(m['width'], m['classes'], m['channels'])
    split = job.get('split')
    if split:
        k = [b[0] for b in blocks].index(split['cut'])
        enc, dec = bottleneck_block(split['C'], split['ratio'], split['expansion'], split['opRows'], split['opCols'])
        blocks = blocks[:k + 1] + [enc, dec] + blocks[k + 1:]
    net = Net(blocks)
    for name, entry in job['weights'].items():
        layer, kind = name.rsplit('/', 1)
        module = net.mods[layer]
        target = dict(slots(module))[kind]
        with torch.no_grad():
            target.copy_(to_torch(module, kind, tensor(entry)))

    images = tensor(job['images'])  # N, H, W, C normalised
    images = images.permute(0, 3, 1, 2).contiguous()
    labels = torch.tensor(job['labels'], dtype=torch.long)
    t = job['training']
    trainable = [p for n, p in net.mods.named_parameters() if n.split('.')[0] in set(job['trainable'])]
    train_mode = set(job['trainingMode'])
    for p in net.parameters():
        p.requires_grad_(False)
    for p in trainable:
        p.requires_grad_(True)
    opt = torch.optim.Adam(trainable, lr=t['learningRate'], betas=(0.9, 0.999), eps=1e-8, weight_decay=t['weightDecay'])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t['epochs'], eta_min=0.0)
    losses = []
    for epoch, batches in enumerate(job['batches']):
        for name, mod in net.mods.items():
            mod.train(name in train_mode)
        for idx in batches:
            opt.zero_grad()
            logits = net(images[idx])
            loss = F.cross_entropy(logits, labels[idx])
            loss.backward()
            opt.step()
            losses.append(float(loss))
        sched.step()

    out, manifest, offset = [], {}, 0
    for name in job['weights']:
        layer, kind = name.rsplit('/', 1)
        module = net.mods[layer]
        value = dict(slots(module))[kind].detach()
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)) and kind == 'kernel':
            value = value.permute(2, 3, 1, 0)  # back to [kh, kw, in|out, out|in]
        elif isinstance(module, nn.Linear) and kind == 'kernel':
            value = value.t()
        value = value.contiguous().float()
        manifest[name] = {'shape': list(value.shape), 'offset': offset}
        out.append(value.numpy().tobytes())
        offset += 4 * value.numel()
    with open(os.path.join(folder, 'torch.bin'), 'wb') as fh:
        fh.write(b''.join(out))
    with open(os.path.join(folder, 'torch.json'), 'w') as fh:
        json.dump({'weights': manifest, 'losses': losses, 'torch': torch.__version__}, fh)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ''
    if mode == 'bottleneck':
        cases = json.load(sys.stdin)
        json.dump([bottleneck_case(c) for c in cases], sys.stdout)
    elif mode == 'train':
        train(sys.argv[2])
    else:
        sys.exit('usage: torch_check.py bottleneck < cases.json | torch_check.py train DIR')


if __name__ == '__main__':
    main()
