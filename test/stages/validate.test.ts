import assert from 'node:assert/strict';
import { validateSweep, ValidationInputError, type EvaluationInput, type ImportanceResult } from '../../src/stages/validate/compute.js';
import validateStage from '../../src/stages/validate/index.js';

const importance: ImportanceResult = {
  cutPoints: ['p0', 'p1', 'p2', 'p3', 'p4'],
  cui: [1, 4, 2, 8, 3],
  candidates: ['p1', 'p3'],
  best: 'p3',
  cdeCandidates: ['p2', 'p4'],
  cdeBytes: [5000, 4000, 3000, 2000, 1000],
};

function evaluation(cut: string, seed: number, accuracy: number, payloadBytes: number, images = 100): EvaluationInput {
  const correct = Uint8Array.from({ length: images }, (_, i) => ((i * 7 + seed) % images < accuracy * images ? 1 : 0));
  return { cellId: `${cut}-${seed}`, cut, seed, accuracy: correct.reduce((s, v) => s + v, 0) / images, payloadBytes, correct };
}

const options = { bootstrapIterations: 200, bootstrapSeed: 1, payloadPrecision: 'fp32' as const };

describe('stages: validate (computation)', () => {
  it('correlates CUI with retrained accuracy over cuts and seeds, in forward order', () => {
    const evals = [
      evaluation('p3', 0, 0.9, 400), evaluation('p1', 0, 0.7, 800), evaluation('p2', 0, 0.6, 600), evaluation('p4', 0, 0.8, 200),
      evaluation('p3', 1, 0.88, 400), evaluation('p1', 1, 0.72, 800), evaluation('p2', 1, 0.58, 600), evaluation('p4', 1, 0.78, 200),
    ];
    const m = validateSweep(importance, evals, options);
    assert.deepEqual(m.cuts, ['p1', 'p2', 'p3', 'p4']);
    assert.deepEqual(m.cui, [4, 2, 8, 3]);
    assert.deepEqual(m.seeds, [0, 1]);
    assert.equal(m.testImages, 100);
    // CUI ranks 3,1,4,2 vs accuracy ranks 2,1,4,3: ρ = 0.8, τ = 4/6.
    assert.ok(Math.abs(m.spearman.value - 0.8) < 1e-12);
    assert.ok(Math.abs(m.kendall.value - 4 / 6) < 1e-12);
    assert.ok(m.spearman.ci95[0] <= m.spearman.ci95[1]);
    assert.equal(m.isplitBest, 'p3');
    assert.equal(m.retrainedBest, 'p3');
    assert.equal(m.hit, true);
    assert.equal(m.isplitRank, 1);
    assert.equal(m.regret.payloadBudgetBytes, 400);
    assert.equal(m.regret.cdeChoice, 'p4');
    assert.ok(Math.abs(m.regret.cde! - (m.accuracy[2]! - m.accuracy[3]!)) < 1e-12);
    assert.deepEqual(m.candidatesInSweep.map((c) => c.cut), ['p1', 'p3']);
    assert.equal(m.calibration.points.length, 4);
    assert.ok(m.calibration.looMae >= 0 && Number.isFinite(m.calibration.baselineLooMae));
    // Deterministic.
    assert.deepEqual(validateSweep(importance, [...evals].reverse(), options), m);
  });

  it('refuses fewer than three cut points, mismatched seeds and foreign cuts', () => {
    assert.throws(() => validateSweep(importance, [evaluation('p1', 0, 0.5, 1), evaluation('p2', 0, 0.6, 1), evaluation('p2', 1, 0.6, 1)], options),
      (e: Error) => e instanceof ValidationInputError && /3 or more distinct cut points, got 2 \(p1, p2\)/.test(e.message));
    assert.throws(() => validateSweep(importance, [evaluation('p1', 0, 0.5, 1), evaluation('p2', 0, 0.6, 1), evaluation('p3', 1, 0.6, 1)], options),
      /same seeds/);
    assert.throws(() => validateSweep(importance, [evaluation('zz', 0, 0.5, 1)], options), /does not have/);
  });

  it('declares at least three gathered evaluations so the planner can refuse early', () => {
    assert.equal(validateStage.inputs.evaluations!.kind, 'many');
    assert.equal(validateStage.inputs.evaluations!.minItems, 3);
  });
});
