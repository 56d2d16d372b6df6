// The guest side of rawpci in one import: the guest PCI bus, PciFront and their building blocks.

export * from './bars.js';
export * from './guest-bus.js';
export * from './msi.js';
export * from './pci-front.js';
