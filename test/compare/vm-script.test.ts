/**
 * The VM scripts: the same client ports and ipvsadm lines as the engine side, one
 * namespace set per scenario, the router only for DR, and valid POSIX shell.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateScenario } from '../../src/compare/scenario.js';
import { scenarioScript, serverMode, usesDirectRouting, vmFiles, vmLibrary } from '../../src/compare/vm-script.js';

const VS = '10.0.0.127:80';
const topo = { vip: '10.0.0.127', servers: [{ name: 'rs1', addr: '10.0.0.11' }], clients: ['198.51.100.10', '198.51.100.11'], udpPorts: [9000] };
const nat = validateScenario({
  name: 'nat', topology: topo,
  steps: [
    { ipvsadm: `-A -t ${VS} -s rr` }, { ipvsadm: `-a -t ${VS} -r 10.0.0.11:80 -m` },
    { connect: { from: ['198.51.100.10', '198.51.100.11'], to: VS } },
    { hold: { from: '198.51.100.10', to: VS, as: 'h1' } }, { close: 'h1' },
    { udp: { from: '198.51.100.11', to: '10.0.0.127:9000' } },
    { saveRestore: true }, { snapshot: 'mid' }, { capture: { label: 'nat', from: '198.51.100.10', to: VS } },
  ],
});

t.test('a scenario script replays the steps with fixed client ports', async (t) => {
  const lines = scenarioScript(nat, 3).split('\n');
  t.equal(lines[1], 'topo_up 3 10.0.0.127 "rs1=10.0.0.11" "198.51.100.10 198.51.100.11" "80" "9000" nat');
  t.same(lines.slice(2, 14), [
    'echo "@@SCENARIO nat"',
    'cmd 0 -A -t 10.0.0.127:80 -s rr',
    'cmd 1 -a -t 10.0.0.127:80 -r 10.0.0.11:80 -m',
    'short 2 c20000 198.51.100.10 20000 10.0.0.127 80',
    'short 2 c20001 198.51.100.11 20001 10.0.0.127 80',
    'hold 3 h1 198.51.100.10 20002 10.0.0.127 80',
    'close_held 4 h1',
    'udp 5 c20003 198.51.100.11 20003 10.0.0.127 9000',
    'saverestore 6',
    'snapshot mid',
    'capture 8 c20004 198.51.100.10 20004 10.0.0.127 80 nat',
    'snapshot end',
  ]);
});

t.test('DR scenarios get the router; NAT ones do not', async (t) => {
  t.notOk(usesDirectRouting(nat));
  const dr = validateScenario({ name: 'dr', topology: topo, steps: [{ ipvsadm: `-a -t ${VS} -r 10.0.0.11 -g` }] });
  t.ok(usesDirectRouting(dr));
  t.match(scenarioScript(dr, 1), /^topo_up 1 .* dr$/m);
});

t.test('tunnel scenarios get the router and servers that decapsulate (tunl0); captures take IPIP', async (t) => {
  const tun = validateScenario({ name: 'tun', topology: topo, steps: [{ ipvsadm: `-a -t ${VS} -r 10.0.0.11 -i` }] });
  t.equal(serverMode(tun), 'tun');
  t.equal(serverMode(nat), 'nat');
  t.match(scenarioScript(tun, 1), /^topo_up 1 .* tun$/m);
  const lib = vmLibrary();
  t.match(lib, /if \[ "\$7" = dr \] \|\| \[ "\$7" = tun \]; then/, 'the router for tun too');
  t.match(lib, /ip -n \$ns link set tunl0 up/);
  t.match(lib, /conf\/\$i\/rp_filter; done' *\n/);
  t.match(lib, /-w \/tmp\/cap-lan\.pcap port \$4 or ip proto 4 /, 'outer headers have no ports');
});

t.test('run.sh sources the library and every scenario in order', async (t) => {
  const files = vmFiles([nat, { ...nat, name: 'again' }]);
  t.same([...files.keys()], ['lib.sh', 's01-nat.sh', 's02-again.sh', 'run.sh']);
  t.equal(files.get('run.sh'), '#!/bin/sh\n. /vm/lib.sh\n. /vm/s01-nat.sh\n. /vm/s02-again.sh\n');
});

t.test('the generated shell parses (sh -n)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-vm-script-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'all.sh');
  writeFileSync(file, vmLibrary() + scenarioScript(nat, 1));
  const r = spawnSync('sh', ['-n', file], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
});
