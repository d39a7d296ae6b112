// Bad sweeps are refused at plan time, from the params alone (no TensorFlow.js, no training).
import assert from 'node:assert/strict';
import splitRetrain from '../../src/stages/split-retrain/index.js';
import trainBase from '../../src/stages/train-base/index.js';

const model = { arch: 'vgg16' as const, width: 0.125, inputSize: 32 };
const params = (cut: string, ratio: number) => ({
  model, cut, bottleneck: { ratio, expansion: 2 }, regime: 'bottleneck' as const, seed: 0,
  training: { epochs: 1, batchSize: 8, optimizer: 'adam' as const, learningRate: 1e-3, momentum: 0.9, weightDecay: 0, seed: 0, augment: { flip: false } },
});
const ctx = { pipelineDir: '.', projectRoot: '.' };

describe('stages: plan-time checks', () => {
  it('accepts a valid cut and ratio', () => {
    assert.deepEqual(splitRetrain.validate!(params('block3_pool', 8), ctx), []);
  });

  it('names the valid cut points when the sweep names an unknown one', () => {
    const [msg] = splitRetrain.validate!(params('block6_pool', 8), ctx);
    assert.match(msg!, /cut: unknown cut point 'block6_pool' for vgg16; valid cut points: block1_conv1, .*block5_pool/);
    const [resnet] = splitRetrain.validate!({ ...params('block1_pool', 8), model: { arch: 'resnet50', width: 1 } }, ctx);
    assert.match(resnet!, /unknown cut point 'block1_pool' for resnet50; valid cut points: conv1, maxpool, layer1_1/);
  });

  it('refuses a ratio that leaves the bottleneck with zero channels', () => {
    // block1_pool at width 0.125 has 8 channels: round(8/17) = 0, and round(8/16) = round(0.5) = 0
    // with Python's rounding (half to even), as the reference code computes f.
    const [msg] = splitRetrain.validate!(params('block1_pool', 17), ctx);
    assert.match(msg!, /bottleneck.ratio 17 leaves the encoder with 0 channels at block1_pool \(C = 8/);
    assert.match(splitRetrain.validate!(params('block1_pool', 16), ctx)[0]!, /round\(8\/16\) = 0/);
    assert.deepEqual(splitRetrain.validate!(params('block1_pool', 15), ctx), []);
  });

  it('hashes a pretrained weights file as an external input of train-base', () => {
    assert.deepEqual(trainBase.externalInputs!({ model: { ...model, width: 1 }, training: params('x', 1).training }, ctx), []);
    const ext = trainBase.externalInputs!({ model: { ...model, width: 1, pretrained: '/data/w/model.json' }, training: params('x', 1).training }, ctx);
    assert.deepEqual(ext, ['/data/w/model.json']);
  });
});
