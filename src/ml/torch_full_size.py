#!/usr/bin/env python3
"""Full-size training and inference throughput of VGG16 and ResNet-50 in PyTorch on the CPU,
beside `sei bench --models vgg16,resnet50 --input N --torch`.

One training step = forward, backward and SGD with momentum 0.9 and weight decay 5e-4 over a
batch, in micro-batches whose gradients are accumulated (as the project's training loop does);
inference = one forward pass of a micro-batch. Random weights and images, 1000 classes.
Set OMP_NUM_THREADS before Python starts for a single-threaded run.
Usage: torch_full_size.py --models vgg16,resnet50 --input 224 --batch 64 --micro 8 [--steps 1]
Prints one JSON object: {model: {train_img_s, infer_img_s, train_cpu_img_s, infer_cpu_img_s}}.
"""
import argparse, json, time
import torch
import torch.nn as nn
import torchvision


def build(name):
    if name == 'vgg16':
        return torchvision.models.vgg16(num_classes=1000)
    if name == 'resnet50':
        return torchvision.models.resnet50(num_classes=1000)
    raise SystemExit(f'unknown model {name}')


def measure(model, size, batch, micro, steps):
    x = torch.randn(batch, 3, size, size)
    y = torch.randint(0, 1000, (batch,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step():
        model.train()
        opt.zero_grad()
        for i in range(0, batch, micro):
            xb, yb = x[i:i + micro], y[i:i + micro]
            loss = nn.functional.cross_entropy(model(xb), yb) * (xb.shape[0] / batch)
            loss.backward()
        opt.step()

    def infer():
        model.eval()
        with torch.no_grad():
            model(x[:micro])

    out = {}
    for name, fn, images, repeats in (('train', step, batch, steps), ('infer', infer, micro, 1)):
        fn()  # warm-up
        t, c = time.perf_counter(), time.process_time()
        for _ in range(repeats):
            fn()
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        out[f'{name}_img_s'] = images * repeats / wall
        out[f'{name}_cpu_img_s'] = images * repeats / cpu
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--models', default='vgg16,resnet50')
    p.add_argument('--input', type=int, default=224)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--micro', type=int, default=8)
    p.add_argument('--steps', type=int, default=1)
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    res = {'engine': f'pytorch {torch.__version__} cpu', 'threads': 1}
    for m in a.models.split(','):
        res[m] = measure(build(m), a.input, a.batch, min(a.micro, a.batch), a.steps)
    print(json.dumps(res))


if __name__ == '__main__':
    main()
