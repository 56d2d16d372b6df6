// Who may open which device through the ring-0 service: root anything, everyone else what a policy rule grants them, refused with the rule to add.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { AccessPolicy, getentResolver, type NameResolver, PolicyError, peerGroups } from '../../r0/policy.js';
import { Bdf } from '../../shared/bdf.js';
import { VERR_ACCESS_DENIED } from '../../shared/status.js';

const users: Record<string, number> = { alice: 1001, bob: 1002 };
const groups: Record<string, number> = { kvm: 36, vfio: 990 };
const names: NameResolver = {
  uid: (n) => users[n],
  gid: (n) => groups[n],
  userName: (uid) => Object.keys(users).find((k) => users[k] === uid),
};

const edu = { bdf: Bdf.parse('0000:00:04.0'), vendor: 0x1234, device: 0x11e8, classCode: 0x00ff00 };
const gpu = { bdf: Bdf.parse('0000:03:00.0'), vendor: 0x10de, device: 0x1eb8, classCode: 0x030200 };
const alice = { uid: 1001, gid: 1001, pid: 4242 };
const policy = (rules: unknown[]) => AccessPolicy.parse(JSON.stringify({ version: 1, rules }), 'test-policy.json', names);

test('root may open any device, even with no rules', (t) => {
  t.like(AccessPolicy.rootOnly('no policy file', names).check({ uid: 0, gid: 0, pid: 1 }, gpu), { rc: 0, rule: -1 });
});

test('a user no rule names is refused with VERR_ACCESS_DENIED and a message naming the rule to add, which then grants it', (t) => {
  const d = policy([{ users: ['bob'], slot: '00:04.0' }]).check(alice, edu);
  t.is(d.rc, VERR_ACCESS_DENIED);
  if (d.rc === 0) return;
  t.regex(d.msg, /^user alice \(uid 1001\), pid 4242, may not open 0000:00:04\.0 \[1234:11e8\] \(class 00ff\): no rule of test-policy\.json grants it/);
  const suggested = JSON.parse(/add (\{.*?\}) to its "rules"/.exec(d.msg)![1]!);
  t.deepEqual(suggested, { users: ['alice'], slot: '0000:00:04.0' });
  t.like(policy([suggested]).check(alice, edu), { rc: 0, rule: 0 });
  t.is(policy([suggested]).check(alice, gpu).rc, VERR_ACCESS_DENIED, 'the rule grants that device only');
});

test('groups grant by primary gid and by supplementary gid; numeric uids and gids work as names do', (t) => {
  const p = policy([
    { groups: ['kvm'], id: '1234:' },
    { users: [1002], groups: [990], id: '::0302' },
  ]);
  t.like(p.check({ uid: 2000, gid: 36, pid: 1 }, edu), { rc: 0, rule: 0 });
  t.like(p.check({ uid: 2000, gid: 100, pid: 1, groups: [5, 36] }, edu), { rc: 0, rule: 0 });
  t.is(p.check({ uid: 2000, gid: 100, pid: 1, groups: [5] }, edu).rc, VERR_ACCESS_DENIED);
  t.like(p.check({ uid: 1002, gid: 1002, pid: 1 }, gpu), { rc: 0, rule: 1 });
  t.like(p.check({ uid: 3000, gid: 3000, pid: 1, groups: [990] }, gpu), { rc: 0, rule: 1 });
  t.is(p.check({ uid: 1002, gid: 1002, pid: 1 }, edu).rc, VERR_ACCESS_DENIED, '1234:11e8 is not class 0302');
});

test("slot and id are lspci's -s and -d selectors: domain, bus, device, function; vendor, device, class, prog-if", (t) => {
  const grants = (rule: object, dev: typeof edu) => policy([{ users: ['alice'], ...rule }]).check(alice, dev).rc === 0;
  t.true(grants({ slot: '03:' }, gpu));
  t.false(grants({ slot: '03:' }, edu));
  t.true(grants({ slot: '0000:00:04' }, edu));
  t.true(grants({ id: '10de:1eb8' }, gpu));
  t.true(grants({ id: ':1eb8' }, gpu));
  t.true(grants({ id: '::03xx' }, gpu));
  t.false(grants({ id: '::03xx' }, edu));
  t.true(grants({ slot: '03:00.0', id: '10de:' }, gpu));
  t.false(grants({ slot: '03:00.0', id: '1234:' }, gpu), 'both selectors must match');
  t.true(grants({}, gpu), 'a rule with neither selector grants every device');
});

for (const [name, doc, re] of [
  ['not JSON', '{', /test-policy\.json is not JSON/],
  ['a wrong version', '{"version": 2, "rules": []}', /\.version: .*the format/],
  ['an unknown field in a rule', '{"version": 1, "rules": [{"users": ["alice"], "device": "00:04.0"}]}', /rules\[0\].*device/],
  ['a rule granting nobody', '{"version": 1, "rules": [{"slot": "00:04.0"}]}', /rules\[0\]: a rule needs "users" or "groups"/],
  ['an unknown user', '{"version": 1, "rules": [{"users": ["mallory"]}]}', /rules\[0\]: no user named 'mallory' on this system/],
  ['an unknown group', '{"version": 1, "rules": [{"users": ["alice"]}, {"groups": ["wheel"]}]}', /rules\[1\]: no group named 'wheel'/],
  ['a bad slot', '{"version": 1, "rules": [{"users": ["alice"], "slot": "00:zz.0"}]}', /rules\[0\]: .*slot is lspci -s syntax/],
  ['a bad id', '{"version": 1, "rules": [{"users": ["alice"], "id": "12345:"}]}', /rules\[0\]: .*id is lspci -d syntax/],
] as const) {
  test(`a policy with ${name} is a PolicyError naming the file, the rule and the fix`, (t) => {
    const e = t.throws(() => AccessPolicy.parse(doc, 'test-policy.json', names), { instanceOf: PolicyError });
    t.regex(e!.message, /^test-policy\.json/);
    t.regex(e!.message, re);
  });
}

test('load reads a file and names it when it is missing', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rawpci-policy-'));
  const file = join(dir, 'policy.json');
  t.throws(() => AccessPolicy.load(file, names), { instanceOf: PolicyError, message: new RegExp(`cannot read the policy file ${file} \\(ENOENT\\)`) });
  writeFileSync(file, JSON.stringify({ version: 1, rules: [{ users: ['alice'], comment: 'edu for the CI user' }] }));
  const p = AccessPolicy.load(file, names);
  t.is(p.size, 1);
  t.is(p.source, file);
  t.like(p.check(alice, edu), { rc: 0, rule: 0 });
});

test("peerGroups reads a process's supplementary groups from /proc", (t) => {
  // process.getgroups() adds the effective gid (Node's documented rule); /proc lists only supplementary groups.
  const sorted = (xs: Iterable<number>) => [...new Set(xs)].sort((a, b) => a - b);
  t.deepEqual(sorted([...peerGroups(process.pid), process.getegid?.() ?? 0]), sorted(process.getgroups?.() ?? []));
  t.deepEqual(peerGroups(0x7fffffff), [], 'a process that is gone has none');
});

test('the getent resolver finds root and the names NSS knows', (t) => {
  t.is(getentResolver.uid('root'), 0);
  t.is(getentResolver.gid('root'), 0);
  t.is(getentResolver.userName(0), 'root');
  t.is(getentResolver.uid('no-such-user-rawpci'), undefined);
});
