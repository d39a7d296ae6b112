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

# The networks as the project defines them, shared with bench/torch_sweep.py (src/ml/torch_networks.py).
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'src', 'ml'))
from torch_networks import Net, bottleneck_block, resnet50_blocks, vgg16_blocks  # noqa: E402


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
