// docs/ARCHITECTURE.md's result shapes are the stages' declared metrics schemas, and the report's
// test fixtures satisfy them: neither can drift from what the worker checks.
import { strict as assert } from 'node:assert';
import { documentedShapes, resultShapes, typeText } from './result-shapes.js';
import { Type } from '@sinclair/typebox';
import { loadStage } from '../../src/pipeline/registry.js';
import { metricsProblems } from '../../src/stages/metrics.js';
import { sweepFixture } from '../report/fixtures.js';

describe('result shapes: generated from the declared schemas', () => {
  let saved: string | undefined;
  before(() => { saved = process.env.SEI_STAGE_PATH; delete process.env.SEI_STAGE_PATH; });
  after(() => { if (saved !== undefined) process.env.SEI_STAGE_PATH = saved; });

  it('renders a schema as a type', () => {
    assert.equal(typeText(Type.Object({ a: Type.Array(Type.Integer()), b: Type.Optional(Type.Union([Type.Number(), Type.Null()])) })),
      '{ a: number[]; b?: number | null }');
  });

  it('docs/ARCHITECTURE.md shows exactly the declared shapes (regenerate: node dist/test/docs/result-shapes.js --write)', async () => {
    assert.equal(documentedShapes(), await resultShapes());
  });

  it('the report\'s fixture results satisfy the schemas of their stages', async () => {
    const problems: string[] = [];
    for (const c of sweepFixture()) {
      if (c.state !== 'done') continue;
      const schema = (await loadStage(c.stage)).metrics;
      if (!schema) continue;
      for (const p of metricsProblems(schema, c.metrics)) problems.push(`${c.instance} ${JSON.stringify(c.coords)}: ${p}`);
    }
    assert.deepEqual(problems, []);
  });
});
