/** services-file, strerror and the libc address conversions. */
import t from 'tap';
import { parseServices } from '../../src/control/ipvsadm/services-file.js';
import { ipvsStrerror, SERVICE_NOT_DEFINED } from '../../src/control/ipvsadm/strerror.js';
import { inetAton, inetPton4, inetPton6, ntop6 } from '../../src/control/ipvsadm/inet.js';

t.test('services file: first match, aliases, protocols, comments', async (t) => {
  const db = parseServices([
    '# comment line',
    'http\t\t80/tcp\t\twww www-http\t# WorldWideWeb HTTP',
    'http\t\t80/udp',
    'webcache\t80/tcp',
    'bad line',
    'broken 99999/tcp',
    'domain 53/udp',
  ].join('\n'));
  t.equal(db.portByName('http', 'tcp'), 80);
  t.equal(db.portByName('www', 'tcp'), 80);
  t.equal(db.portByName('www', 'udp'), undefined);
  t.equal(db.nameByPort(80, 'tcp'), 'http');
  t.equal(db.nameByPort(53, 'tcp'), undefined);
  t.equal(db.nameByPort(53, 'udp'), 'domain');
  t.equal(db.portByName('broken', 'tcp'), undefined);
});

t.test('ipvs_strerror depends on the call and errno', async (t) => {
  t.equal(ipvsStrerror('add-server', 'ESRCH'), SERVICE_NOT_DEFINED);
  t.equal(ipvsStrerror('add-service', 'EEXIST'), 'Service already exists');
  t.equal(ipvsStrerror('edit-service', 'ESRCH'), 'No such service');
  t.equal(ipvsStrerror('delete-server', 'ENOENT'), 'No such destination');
  t.equal(ipvsStrerror('add-service', 'ENOENT'), 'Scheduler or persistence engine not found');
  t.equal(ipvsStrerror('add-service', 'EPERM'), 'Permission denied (you must be root)');
  // Not in the per-call table and not generic: libc's text.
  t.equal(ipvsStrerror('add-service', 'ESRCH'), 'No such process');
});

t.test('inet_aton / inet_pton / inet_ntop', async (t) => {
  t.equal(inetAton('10.0.0.1'), 0x0a000001);
  t.equal(inetAton('10.1'), 0x0a000001);
  t.equal(inetAton('10.1.2'), 0x0a010002);
  t.equal(inetAton('0x0a.0.0.010'), 0x0a000008);
  t.equal(inetAton('167772161'), 0x0a000001);
  t.equal(inetAton('256.0.0.1'), undefined);
  t.equal(inetAton('1.2.3.4.5'), undefined);
  t.equal(inetAton('08.0.0.1'), undefined);
  t.equal(inetAton('host'), undefined);
  t.equal(inetPton4('10.0.0.01'), undefined);
  t.equal(inetPton4('10.0.0.1'), 0x0a000001);
  t.same(inetPton6('2001:db8::1'), [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
  t.same(inetPton6('::ffff:10.0.0.1'), [0, 0, 0, 0, 0, 0xffff, 0x0a00, 1]);
  t.equal(inetPton6('1:2:3:4:5:6:7::8'), undefined);
  t.equal(inetPton6(':::1'), undefined);
  t.equal(ntop6([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]), '2001:db8::1:0:0:1');
  t.equal(ntop6([0, 0, 0, 0, 0, 0xffff, 0x0a00, 1]), '::ffff:10.0.0.1');
  t.equal(ntop6([1, 0, 2, 3, 4, 5, 6, 7]), '1:0:2:3:4:5:6:7');
  t.equal(ntop6([0, 0, 0, 0, 0, 0, 0, 0]), '::');
});
