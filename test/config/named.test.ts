// One resolver of named configs: `use:` in a pipeline and the network/device profiles a stage
// names find the same files under configs/<kind>/.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namedConfigFile, namedConfigPath, namedConfigs } from '../../src/config/named.js';
import { knownProfiles, loadNetwork, profilePath } from '../../src/netsim/profiles.js';

describe('named configs: one resolver', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sei-named-'));
    mkdirSync(join(root, 'configs', 'networks'), { recursive: true });
    writeFileSync(join(root, 'configs', 'networks', 'fast.yaml'), 'bandwidthMbps: 100\ndelayMs: 1\nlossRate: 0\nmtu: 1500\ntransport: tcp\n');
    writeFileSync(join(root, 'configs', 'networks', 'slow.yml'), 'bandwidthMbps: 1\ndelayMs: 50\nlossRate: 0\nmtu: 1500\ntransport: udp\n');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('lists and finds .yaml and .yml alike, for pipelines and profiles', () => {
    assert.deepEqual(namedConfigs(root, 'networks'), ['fast', 'slow']);
    assert.deepEqual(knownProfiles(root, 'networks'), ['fast', 'slow']);
    assert.equal(namedConfigFile(root, 'networks/slow'), join(root, 'configs', 'networks', 'slow.yml'));
    assert.equal(profilePath(root, 'networks', 'slow'), join(root, 'configs', 'networks', 'slow.yml'));
    assert.equal(loadNetwork(root, 'slow').bandwidthMbps, 1);
    assert.equal(namedConfigFile(root, 'networks/none'), undefined);
    assert.equal(namedConfigPath(root, 'networks/none'), join(root, 'configs', 'networks', 'none.yaml'));
    assert.deepEqual(namedConfigs(root, 'devices'), []);
  });
});
