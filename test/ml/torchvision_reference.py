#!/usr/bin/env python3
"""PyTorch side of the cross-framework tests (test/ml/torch-checkpoints.test.ts).

Builds a randomly initialised torchvision VGG16 or ResNet-50 (full width, or a reduced width built
the same way: every channel count and VGG's 4096 scaled and rounded), saves its state_dict with
torch.save (and optionally as .safetensors), runs it in inference mode on seeded random images and
writes what the project must reproduce:
  model.pth / model.safetensors   the weights
  images.bin                      float32 N×3×H×W, the normalised inputs
  reference.json                  logits, targets (predicted class), and with --cui the channel-mean
                                  Grad-CAM importance (METHOD.md) at the 18 cut points for both
                                  read points ('post-activation' and 'reference')
Usage: torchvision_reference.py --arch vgg16|resnet50 --width 1 --classes 10 --size 224 --images 1
       --seed 0 --out DIR [--cui] [--safetensors]
Run with OMP_NUM_THREADS set (the test sets it to 1 before Python starts).
"""
import argparse, json, os, struct
import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import Bottleneck, ResNet
from torchvision.models.vgg import VGG, make_layers

VGG16_CFG = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M']


def scaled(c, width):
    return max(1, int(c * width + 0.5))  # the project's Math.round for positive values


def vgg16(width, classes):
    if width == 1:
        return torchvision.models.vgg16(num_classes=classes)
    cfg = [v if v == 'M' else scaled(v, width) for v in VGG16_CFG]
    m = VGG(make_layers(cfg), num_classes=classes)
    c, fc = cfg[-2], scaled(4096, width)
    m.classifier = nn.Sequential(nn.Linear(c * 7 * 7, fc), nn.ReLU(True), nn.Dropout(), nn.Linear(fc, fc), nn.ReLU(True),
                                 nn.Dropout(), nn.Linear(fc, classes))
    for mod in m.classifier:
        if isinstance(mod, nn.Linear):
            nn.init.normal_(mod.weight, 0, 0.01)
            nn.init.constant_(mod.bias, 0)
    return m


class ScaledResNet50(ResNet):
    """torchvision's ResNet-50 with every width scaled (torchvision's own classes and names)."""

    def __init__(self, width, classes):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.dilation, self.groups, self.base_width = 1, 1, 64
        self.inplanes = scaled(64, width)
        self.conv1 = nn.Conv2d(3, self.inplanes, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(Bottleneck, scaled(64, width), 3)
        self.layer2 = self._make_layer(Bottleneck, scaled(128, width), 4, stride=2)
        self.layer3 = self._make_layer(Bottleneck, scaled(256, width), 6, stride=2)
        self.layer4 = self._make_layer(Bottleneck, scaled(512, width), 3, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(self.inplanes, classes)


def resnet50(width, classes):
    return torchvision.models.resnet50(num_classes=classes) if width == 1 else ScaledResNet50(width, classes)


def randomise_bn(model, gen):
    """Non-trivial batch-norm statistics and affine parameters, so that the test exercises them."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.uniform_(-0.2, 0.2, generator=gen)
                m.running_mean.uniform_(-0.2, 0.2, generator=gen)
                m.running_var.uniform_(0.5, 2.0, generator=gen)
                m.num_batches_tracked.fill_(7)


def read_points(model, arch):
    """(cut name, module, read its input?) for both read points, in forward order."""
    post, ref = [], []
    if arch == 'vgg16':
        f, block, conv = model.features, 1, 1
        for i, m in enumerate(f):
            if isinstance(m, nn.Conv2d):
                name = f'block{block}_conv{conv}'
                post.append((name, f[i + 1]))
                ref.append((name, m))
                conv += 1
            elif isinstance(m, nn.MaxPool2d):
                post.append((f'block{block}_pool', m))
                ref.append((f'block{block}_pool', m))
                block, conv = block + 1, 1
    else:
        post.append(('conv1', model.relu))
        ref.append(('conv1', model.conv1))
        rest = [('maxpool', model.maxpool)]
        for s in range(1, 5):
            for j, b in enumerate(getattr(model, f'layer{s}')):
                rest.append((f'layer{s}_{j + 1}', b))
        post += rest
        ref += rest
    return {'post-activation': post, 'reference': ref}


def importance(model, x, targets, points):
    """Channel-mean Grad-CAM (METHOD.md) per cut point, averaged over the images."""
    saved = {}
    hooks = []
    for name, module in points:
        def hook(mod, inp, out, name=name):
            if name not in saved:  # the stem ReLU of ResNet is called once; keep the first call
                out.retain_grad()
                saved[name] = out
        hooks.append(module.register_forward_hook(hook))
    model.zero_grad()
    logits = model(x)
    for h in hooks:
        h.remove()
    logits.gather(1, targets[:, None]).sum().backward()
    out = []
    for name, _ in points:
        a, g = saved[name].detach().double(), saved[name].grad.double()
        alpha = g.mean(dim=(2, 3), keepdim=True)
        cam = torch.relu((alpha * a).mean(dim=1))
        out.append(cam.mean(dim=(1, 2)).mean().item())
    return out


def write_safetensors(path, state):
    header, blobs, offset = {}, [], 0
    for k, v in state.items():
        if v.dtype == torch.int64:
            dtype, data = 'I64', v.contiguous().numpy().tobytes()
        else:
            dtype, data = 'F32', v.float().contiguous().numpy().tobytes()
        header[k] = {'dtype': dtype, 'shape': list(v.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--arch', choices=['vgg16', 'resnet50'], required=True)
    p.add_argument('--width', type=float, default=1.0)
    p.add_argument('--classes', type=int, default=10)
    p.add_argument('--size', type=int, default=224)
    p.add_argument('--images', type=int, default=1)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', required=True)
    p.add_argument('--cui', action='store_true')
    p.add_argument('--safetensors', action='store_true')
    a = p.parse_args()
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed + 1)
    model = vgg16(a.width, a.classes) if a.arch == 'vgg16' else resnet50(a.width, a.classes)
    if a.arch == 'resnet50':
        randomise_bn(model, gen)
    for m in model.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False  # hooks read each module's own output tensor
    model.eval()
    os.makedirs(a.out, exist_ok=True)
    state = model.state_dict()
    torch.save(state, os.path.join(a.out, 'model.pth'))
    if a.safetensors:
        write_safetensors(os.path.join(a.out, 'model.safetensors'), state)
    x = torch.randn(a.images, 3, a.size, a.size, generator=gen)
    with open(os.path.join(a.out, 'images.bin'), 'wb') as f:
        f.write(x.contiguous().numpy().astype('<f4').tobytes())
    with torch.no_grad():
        logits = model(x)
    targets = logits.argmax(dim=1)
    result = {'logits': logits.tolist(), 'targets': targets.tolist(), 'torch': torch.__version__}
    if a.cui:
        result['cui'] = {mode: importance(model, x, targets, pts) for mode, pts in read_points(model, a.arch).items()}
        result['cutPoints'] = [n for n, _ in read_points(model, a.arch)['post-activation']]
    with open(os.path.join(a.out, 'reference.json'), 'w') as f:
        json.dump(result, f)


if __name__ == '__main__':
    main()
