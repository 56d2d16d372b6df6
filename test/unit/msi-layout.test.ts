// The MSI capability layout follows its Message Control word (PCI Local Bus spec 3.0, 6.8.1): 10, 14, 20 or 24 bytes.
import test from 'ava';
import { msiLayout } from '../../shared/msi-layout.js';

for (const [flags, is64, mask, expect] of [
  [0x0000, false, false, { data: 0x08, length: 10 }],
  [0x0080, true, false, { data: 0x0c, length: 14 }],
  [0x0100, false, true, { data: 0x08, mask: 0x0c, pending: 0x10, length: 20 }],
  [0x0180, true, true, { data: 0x0c, mask: 0x10, pending: 0x14, length: 24 }],
] as const) {
  test(`Message Control 0x${flags.toString(16).padStart(4, '0')} (${is64 ? '64' : '32'}-bit${mask ? ', maskable' : ''}) gives a ${expect.length}-byte capability`, (t) => {
    t.like(msiLayout(flags), { is64, perVectorMask: mask, ...expect });
  });
}

test('vector counts decode from Multiple Message Capable and Enable, reserved encodings clamp to 32', (t) => {
  t.like(msiLayout(0x0001 | (3 << 1) | (2 << 4)), { enabled: true, vectorsCapable: 8, vectorsEnabled: 4 });
  t.like(msiLayout(7 << 1), { vectorsCapable: 32 });
});
