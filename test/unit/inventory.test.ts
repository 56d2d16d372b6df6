// Unit tests of the simulated host's inventory: validation messages, default document, model registry, firmware BAR assignment and programBars.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { assignHostResources, programBars } from '../../r0/sim/firmware.js';
import { createInventoryDevices, DEFAULT_INVENTORY, loadInventory, parseInventory, SimInventoryError } from '../../r0/sim/inventory.js';
import { EduDevice } from '../../r0/sim/models/edu.js';
import { createSimModel, listSimModels, registerSimModel } from '../../r0/sim/models/index.js';
import { TestDevDevice } from '../../r0/sim/models/testdev.js';
import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_2,
  PCI_BASE_ADDRESS_3,
  PCI_BASE_ADDRESS_4,
  PCI_COMMAND,
  PCI_COMMAND_IO,
  PCI_COMMAND_MEMORY,
  PCI_INTERRUPT_LINE,
  PCI_ROM_ADDRESS,
} from '../../shared/linux/pci-regs.js';
import { cfgRead } from '../helpers/fake-sim-host.js';

const defaultJsonPath = new URL('../../../r0/sim/default-inventory.json', import.meta.url);

function issuesOf(t: { throws: (fn: () => unknown, exp?: object) => unknown }, json: unknown): readonly string[] {
  const err = t.throws(() => parseInventory(json), {
    instanceOf: SimInventoryError,
  }) as SimInventoryError;
  return err.issues;
}

test('default-inventory.json and DEFAULT_INVENTORY are the same document', (t) => {
  const json: unknown = JSON.parse(readFileSync(defaultJsonPath, 'utf8'));
  t.deepEqual(parseInventory(json), parseInventory(DEFAULT_INVENTORY));
  t.deepEqual(parseInventory(DEFAULT_INVENTORY), DEFAULT_INVENTORY);
});

test('the default inventory holds the host bridge, edu and the testdev with their drivers, groups and IRQs', (t) => {
  t.deepEqual(
    DEFAULT_INVENTORY.devices.map((d) => [d.bdf, d.model, d.driver, d.iommuGroup, d.irq]),
    [
      ['0000:00:00.0', 'host-bridge', null, 0, 0],
      ['0000:00:04.0', 'edu', 'edu', 3, 11],
      ['0000:00:05.0', 'rawpci-testdev', 'rawpci_testdev', 4, 10],
    ],
  );
  t.true(Object.isFrozen(DEFAULT_INVENTORY.devices[1]));
});

test('loadInventory() without a path returns a fresh copy of the default', (t) => {
  const a = loadInventory();
  a.devices.pop();
  t.is(loadInventory().devices.length, 3);
});

test('parseInventory normalizes BDFs and fills driver, irq and options defaults', (t) => {
  const inv = parseInventory({
    devices: [{ bdf: '00:1F.0', model: 'edu', iommuGroup: 9 }],
  });
  t.deepEqual(inv.devices, [
    {
      bdf: '0000:00:1f.0',
      model: 'edu',
      driver: null,
      iommuGroup: 9,
      irq: 0,
      options: {},
    },
  ]);
});

test('a bad BDF is reported with its field and the accepted form', (t) => {
  const issues = issuesOf(t, {
    devices: [{ bdf: '0000:00:04', model: 'edu', iommuGroup: 1 }],
  });
  t.is(issues.length, 1);
  t.regex(issues[0]!, /^devices\[0\]\.bdf \(got "0000:00:04"\) is not a PCI address: write it as "DDDD:BB:DD\.F"/);
});

test('duplicate BDFs are an error, also when written differently', (t) => {
  const issues = issuesOf(t, {
    devices: [
      { bdf: '0000:00:04.0', model: 'edu', iommuGroup: 1 },
      { bdf: '00:04.0', model: 'edu', iommuGroup: 1 },
    ],
  });
  t.deepEqual(issues, ['devices[1].bdf "00:04.0" duplicates devices[0].bdf: each PCI address may appear once']);
});

test('an unknown model is an error naming the known models', (t) => {
  const issues = issuesOf(t, {
    devices: [{ bdf: '0000:00:04.0', model: 'e1000', iommuGroup: 1 }],
  });
  t.is(issues.length, 1);
  t.regex(issues[0]!, /devices\[0\]\.model "e1000" is not a known model: use one of edu, rawpci-testdev, host-bridge/);
});

test('missing and mistyped fields are each named with the fix', (t) => {
  const issues = issuesOf(t, {
    devices: [
      { bdf: '0000:00:04.0', model: 'edu' },
      {
        bdf: '0000:00:05.0',
        model: 'edu',
        iommuGroup: -1,
        irq: 300,
        driver: 5,
      },
    ],
  });
  t.true(issues.some((i) => i.startsWith('devices[0].iommuGroup is missing: give a non-negative integer')));
  t.true(issues.some((i) => i.startsWith('devices[1].iommuGroup (got -1)') && i.includes('non-negative integer')));
  t.true(issues.some((i) => i.startsWith('devices[1].irq (got 300)') && i.includes('0..255')));
  t.true(issues.some((i) => i.startsWith('devices[1].driver (got 5)') && i.includes('or null when unbound')));
});

test('unknown fields are errors listing the allowed ones', (t) => {
  const issues = issuesOf(t, {
    devices: [{ bdf: '0000:00:04.0', model: 'edu', iommuGroup: 1, iommu_group: 1 }],
  });
  t.deepEqual(issues, ['devices[0]: unknown field "iommu_group": allowed fields are bdf, model, driver, iommuGroup, irq, options']);
  const top = issuesOf(t, { device: [] });
  t.true(top.some((i) => i.includes('unknown field "device"')));
  t.true(top.some((i) => i.startsWith('devices is missing')));
});

test('bad model options are reported at the entry with the model message', (t) => {
  const issues = issuesOf(t, {
    devices: [
      {
        bdf: '0000:00:05.0',
        model: 'rawpci-testdev',
        iommuGroup: 4,
        options: { memBarSize: 100 },
      },
    ],
  });
  t.is(issues.length, 1);
  t.regex(issues[0]!, /^devices\[0\]\.options: rawpci-testdev: option memBarSize 100 must be a power of two/);
});

test('SimInventoryError has a stable name and code and lists every issue in its message', (t) => {
  const err = t.throws(() => parseInventory({ devices: [{ bdf: 'x', model: 'nope', iommuGroup: 1 }] }), { instanceOf: SimInventoryError }) as SimInventoryError;
  t.is(err.name, 'SimInventoryError');
  t.is(err.code, 'ERR_RAWPCI_INVENTORY');
  t.regex(err.message, /^inventory is not a valid simulated-host inventory:\n {2}- /);
});

test('loadInventory reads a file and names it in errors (unreadable, not JSON, invalid)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rawpci-inv-'));
  const good = join(dir, 'good.json');
  writeFileSync(
    good,
    JSON.stringify({
      devices: [
        {
          bdf: '0000:00:07.0',
          model: 'edu',
          iommuGroup: 2,
          driver: 'vfio-pci',
        },
      ],
    }),
  );
  t.is(loadInventory(good).devices[0]!.driver, 'vfio-pci');
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{ devices: ');
  t.throws(() => loadInventory(bad), {
    instanceOf: SimInventoryError,
    message: new RegExp(`^${bad}.*\\n.*not valid JSON`),
  });
  t.throws(() => loadInventory(join(dir, 'missing.json')), {
    instanceOf: SimInventoryError,
    message: /ENOENT.*check the path/,
  });
  const invalid = join(dir, 'invalid.json');
  writeFileSync(invalid, JSON.stringify({ devices: [{ bdf: '0000:00:07.0', model: 'edu' }] }));
  t.throws(() => loadInventory(invalid), {
    message: new RegExp(`^${invalid} is not a valid .*iommuGroup is missing`, 's'),
  });
});

// ---- registry -----------------------------------------------------------------------------

test('the registry lists the built-in models and creates them by name', (t) => {
  t.deepEqual(listSimModels().slice(0, 3), ['edu', 'rawpci-testdev', 'host-bridge']);
  t.true(createSimModel('edu') instanceof EduDevice);
  t.true(createSimModel('rawpci-testdev', {}) instanceof TestDevDevice);
  t.is(createSimModel('host-bridge').model, 'host-bridge');
});

test('an unknown model name throws an Error naming the known models', (t) => {
  t.throws(() => createSimModel('e1000'), {
    message: `unknown simulated device model 'e1000': known models are ${listSimModels().join(', ')}`,
  });
});

test('a user model can be registered once and then named by an inventory', (t) => {
  registerSimModel('test-user-model', () => new EduDevice());
  t.throws(() => registerSimModel('test-user-model', () => new EduDevice()), {
    message: /already registered/,
  });
  t.throws(() => registerSimModel('edu', () => new EduDevice()), {
    message: /already registered/,
  });
  t.throws(() => registerSimModel('', () => new EduDevice()), {
    instanceOf: TypeError,
  });
  t.is(
    parseInventory({
      devices: [{ bdf: '0000:00:09.0', model: 'test-user-model', iommuGroup: 1 }],
    }).devices[0]!.model,
    'test-user-model',
  );
});

// ---- firmware -------------------------------------------------------------------------------

function defaultDevices() {
  return DEFAULT_INVENTORY.devices.map((d) => ({
    bdf: d.bdf,
    model: createSimModel(d.model, d.options),
    irq: d.irq,
  }));
}

test('assignHostResources gives the default inventory BIOS-like addresses', (t) => {
  const res = assignHostResources(defaultDevices());
  t.deepEqual(res[0], { bdf: '0000:00:00.0', irq: 0, regions: [] });
  t.deepEqual(res[1], {
    bdf: '0000:00:04.0',
    irq: 11,
    regions: [
      {
        index: 0,
        kind: 'mem32',
        size: 0x10_0000,
        prefetchable: false,
        hostPhys: 0xfe00_0000n,
      },
    ],
  });
  t.deepEqual(res[2]!.regions, [
    {
      index: 0,
      kind: 'io',
      size: 0x100,
      prefetchable: false,
      hostPhys: 0xc000n,
    },
    {
      index: 2,
      kind: 'mem64',
      size: 0x10_0000,
      prefetchable: true,
      hostPhys: 0x80_0000_0000n,
    },
    {
      index: 4,
      kind: 'mem32',
      size: 0x1000,
      prefetchable: false,
      hostPhys: 0xfe10_0000n,
    },
    {
      index: 6,
      kind: 'rom',
      size: 0x8000,
      prefetchable: false,
      hostPhys: 0xfe10_8000n,
    },
  ]);
});

test('assignHostResources is deterministic: input order does not change the addresses', (t) => {
  const a = assignHostResources(defaultDevices());
  const b = assignHostResources(defaultDevices().reverse()).reverse();
  t.deepEqual(a, b);
});

test('every assigned region is naturally aligned and no two regions of a window overlap', (t) => {
  const devices = [
    { bdf: '0000:00:03.0', model: new TestDevDevice({ memBarSize: 0x4000 }) },
    { bdf: '0000:00:04.0', model: new EduDevice() },
    { bdf: '0000:00:05.0', model: new TestDevDevice() },
    {
      bdf: '0000:01:00.0',
      model: new TestDevDevice({ memBarSize: 0x10_0000 }),
    },
  ];
  const all = assignHostResources(devices).flatMap((r) => r.regions);
  for (const r of all) t.is(r.hostPhys % BigInt(r.size), 0n, `${r.kind} ${r.hostPhys.toString(16)}`);
  const space = (k: string) => (k === 'io' ? 'io' : 'mem');
  for (const a of all) {
    for (const b of all) {
      if (a === b || space(a.kind) !== space(b.kind)) continue;
      t.true(a.hostPhys + BigInt(a.size) <= b.hostPhys || b.hostPhys + BigInt(b.size) <= a.hostPhys);
    }
  }
});

test('a full window is a RangeError naming the device and the option to enlarge', (t) => {
  t.throws(
    () =>
      assignHostResources([{ bdf: '0000:00:04.0', model: new EduDevice() }], {
        mem32Limit: 0xfe08_0000n,
      }),
    {
      instanceOf: RangeError,
      message: /0000:00:04\.0: region 0 \(mem32, 1048576 bytes\) does not fit .*mem32Limit/,
    },
  );
});

test('programBars writes the addresses through writeConfig, and again after a reset', (t) => {
  const dev = new TestDevDevice();
  const [res] = assignHostResources([{ bdf: '0000:00:05.0', model: dev, irq: 10 }]);
  programBars(dev, res!);
  const check = (): void => {
    t.is(cfgRead(dev, PCI_BASE_ADDRESS_0, 4), 0xc001);
    t.is(cfgRead(dev, PCI_BASE_ADDRESS_2, 4), 0x0000_000c);
    t.is(cfgRead(dev, PCI_BASE_ADDRESS_3, 4), 0x80);
    t.is(cfgRead(dev, PCI_BASE_ADDRESS_4, 4), 0xfe00_0000);
    t.is(cfgRead(dev, PCI_ROM_ADDRESS, 4), 0xfe00_8000, 'ROM address with the enable bit clear');
    t.is(cfgRead(dev, PCI_INTERRUPT_LINE, 1), 10);
    t.is(cfgRead(dev, PCI_COMMAND, 2), 0, 'decode left off by default');
  };
  check();
  dev.reset();
  t.is(cfgRead(dev, PCI_BASE_ADDRESS_0, 4), 0x1);
  programBars(dev, res!);
  check();
  programBars(dev, res!, { enableDecode: true });
  t.is(cfgRead(dev, PCI_COMMAND, 2), PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
});

test('programBars refuses resources assigned to a different model', (t) => {
  const [res] = assignHostResources([{ bdf: '0000:00:05.0', model: new TestDevDevice() }]);
  t.throws(() => programBars(new EduDevice(), res!), {
    message: /does not match model 'edu'/,
  });
});

test('createInventoryDevices instantiates, assigns and programs every device in inventory order', (t) => {
  const devices = createInventoryDevices(loadInventory());
  t.deepEqual(
    devices.map((d) => [d.bdf.toString(), d.model.model]),
    [
      ['0000:00:00.0', 'host-bridge'],
      ['0000:00:04.0', 'edu'],
      ['0000:00:05.0', 'rawpci-testdev'],
    ],
  );
  t.is(cfgRead(devices[1]!.model, PCI_BASE_ADDRESS_0, 4), 0xfe00_0000);
  t.is(cfgRead(devices[1]!.model, PCI_INTERRUPT_LINE, 1), 11);
});
