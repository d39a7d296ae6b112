// The Slurm executor's settings, without a cluster: time formats, where the settings come from,
// what each stage's job asks for.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chooseExecutor, resourceArgs, resourcesFor, type SlurmConfig } from '../../src/exec/slurm/config.js';
import { expandArrayIds } from '../../src/exec/slurm/executor.js';
import { formatSlurmTime, parseSlurmTime } from '../../src/exec/slurm/time.js';
import { tempDir } from './helpers.js';

const slurm = (c: ReturnType<typeof chooseExecutor>): SlurmConfig => {
  assert.equal(c.kind, 'slurm');
  return (c as { config: SlurmConfig }).config;
};

describe('exec/slurm settings', () => {
  it('reads every Slurm time format and refuses the rest', () => {
    assert.equal(parseSlurmTime('30'), 1800);
    assert.equal(parseSlurmTime('5:30'), 330);
    assert.equal(parseSlurmTime('2:00:00'), 7200);
    assert.equal(parseSlurmTime('1-12'), 86400 + 12 * 3600);
    assert.equal(parseSlurmTime('1-00:30'), 86400 + 1800);
    assert.equal(parseSlurmTime('2-01:02:03'), 2 * 86400 + 3723);
    assert.equal(parseSlurmTime('UNLIMITED'), Infinity);
    for (const bad of ['2h', '1:2:3:4', '', '-5', '1-', 'abc']) assert.throws(() => parseSlurmTime(bad), /is not a Slurm time/);
    assert.equal(formatSlurmTime(61), '00:02:00');
    assert.equal(formatSlurmTime(90000), '1-01:00:00');
  });

  it('chooses the executor: --executor over the pipeline block; named configs; bad time names the field', () => {
    const root = tempDir('sei-slurm-conf-');
    mkdirSync(join(root, 'configs', 'executors'), { recursive: true });
    writeFileSync(join(root, 'configs', 'executors', 'site.yaml'), 'kind: slurm\npartition: gpu\nmaxQueued: 7\nstages:\n  evaluate: { cpus: 3 }\n');
    writeFileSync(join(root, 'configs', 'executors', 'typo.yaml'), 'kind: slurm\npartitoin: gpu\n');
    assert.deepEqual(chooseExecutor(undefined, undefined, root, 'p.yaml'), { kind: 'local' });
    assert.deepEqual(chooseExecutor('local', { kind: 'slurm' }, root, 'p.yaml'), { kind: 'local' });
    assert.equal(slurm(chooseExecutor('slurm', undefined, root, 'p.yaml')).maxQueued, 500);
    const site = slurm(chooseExecutor('site', 'local', root, 'p.yaml'));
    assert.equal(site.maxQueued, 7);
    assert.equal(site.defaults.partition, 'gpu');
    assert.throws(() => chooseExecutor('typo', undefined, root, 'p.yaml'), /typo\.yaml: .*partitoin/);
    assert.throws(() => chooseExecutor('nope', undefined, root, 'p.yaml'), /configs\/executors\/nope\.yaml \(not found/);
    assert.throws(() => chooseExecutor(undefined, { kind: 'slurm', stages: { 'train-base': { time: '1 day' } } }, root, 'p.yaml'),
      /p\.yaml: executor\.stages\.train-base\.time: "1 day" is not a Slurm time/);
  });

  it('per-stage resources: built-in defaults, config defaults, stage type, instance; a GPU for training on tensorflow-gpu', () => {
    const c = slurm(chooseExecutor(undefined, { kind: 'slurm', mem: '3G', stages: { 'train-base': { time: '4:00:00' }, bigbase: { gres: 'none', cpus: 16 } } }, '/', 'p.yaml'));
    assert.deepEqual(resourcesFor(c, 'train-base', 'base', 'tensorflow-gpu'), { cpus: 4, mem: '3G', time: '4:00:00', gres: 'gpu:1' });
    assert.deepEqual(resourcesFor(c, 'train-base', 'base', 'wasm'), { cpus: 4, mem: '3G', time: '4:00:00' });
    assert.deepEqual(resourcesFor(c, 'train-base', 'bigbase', 'tensorflow-gpu'), { cpus: 16, mem: '3G', time: '4:00:00' });
    assert.deepEqual(resourceArgs({ partition: 'p', time: '10', cpus: 2, mem: '1G', gres: 'gpu:1', sbatchArgs: ['--constraint=x'] }),
      ['--partition=p', '--time=10', '--cpus-per-task=2', '--mem=1G', '--gres=gpu:1', '--constraint=x']);
    assert.deepEqual(c.localStages, ['validate', 'simulate', 'recommend', 'compare-subsets']);
  });

  it('expands the array ids sacct shows for pending elements', () => {
    assert.deepEqual(expandArrayIds('12_[0-2,5%4]'), ['12_0', '12_1', '12_2', '12_5']);
    assert.deepEqual(expandArrayIds('12_3'), ['12_3']);
    assert.deepEqual(expandArrayIds('13'), ['13']);
  });
});
