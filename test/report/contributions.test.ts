// The report reads stages through their contributions (src/stages/<name>/report.ts): the static
// list used when no contributions are passed must agree with what the registry loads.
import assert from 'node:assert/strict';
import { loadStageReport, stageNames } from '../../src/pipeline/registry.js';
import { builtinReports } from '../../src/report/index.js';

describe('stage report contributions', () => {
  it('the built-in list holds exactly the contributions the registry finds, with the stages\' schemas', async () => {
    const saved = process.env.SEI_STAGE_PATH;
    delete process.env.SEI_STAGE_PATH;
    try {
      const found: string[] = [];
      for (const name of stageNames()) {
        const s = await loadStageReport(name);
        if (!s) continue;
        found.push(name);
        const listed = builtinReports.get(name);
        assert.ok(listed, `${name} has a report.ts but is not in src/stages/builtin-reports.ts`);
        assert.equal(listed.report, s.report, name);
        assert.equal(listed.metrics, s.metrics, name);
      }
      assert.deepEqual([...builtinReports.keys()].sort(), found);
      assert.deepEqual(found, stageNames(), 'every built-in stage says what it is to the report');
    } finally {
      if (saved === undefined) delete process.env.SEI_STAGE_PATH; else process.env.SEI_STAGE_PATH = saved;
    }
  });
});
