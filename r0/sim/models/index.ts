// Registry of simulated device models by name: the built-ins ('edu', 'rawpci-testdev', 'host-bridge') and user models.

import type { SimDeviceModel, SimModelFactory } from '../device.js';
import { EduDevice } from './edu.js';
import { HostBridgeDevice } from './host-bridge.js';
import { TestDevDevice } from './testdev.js';

export { fillOnes, readLe, readLe64, writeLe } from '../../../shared/le.js';
export type { SimVectorRoute } from './base.js';
export { SimPciFunction } from './base.js';
export { EduDevice } from './edu.js';
export { HostBridgeDevice } from './host-bridge.js';
export { TestDevDevice } from './testdev.js';

const factories = new Map<string, SimModelFactory>();

/**
 * Registers `factory` under `name` so inventories can name it (`"model": name`). Throws
 * TypeError for an empty name or a non-function factory, and Error when `name` is taken
 * (built-ins cannot be replaced).
 */
export function registerSimModel(name: string, factory: SimModelFactory): void {
  if (typeof name !== 'string' || name.trim() === '') throw new TypeError('registerSimModel: name must be a non-empty string');
  if (typeof factory !== 'function') throw new TypeError(`registerSimModel: factory for '${name}' must be a function (options) => SimDeviceModel`);
  if (factories.has(name)) throw new Error(`registerSimModel: a model named '${name}' is already registered: choose another name`);
  factories.set(name, factory);
}

/**
 * Creates a new instance of model `name` with `options` (the inventory entry's `options`).
 * Throws Error naming the known models when `name` is unknown; the factory's own TypeError /
 * RangeError for bad options.
 */
export function createSimModel(name: string, options: Record<string, unknown> = {}): SimDeviceModel {
  const factory = factories.get(name);
  if (!factory) throw new Error(`unknown simulated device model '${name}': known models are ${listSimModels().join(', ')}`);
  return factory(options);
}

/** Names of all registered models (built-ins first, then in registration order). */
export function listSimModels(): string[] {
  return [...factories.keys()];
}

/** Whether a model named `name` is registered. */
export function hasSimModel(name: string): boolean {
  return factories.has(name);
}

registerSimModel('edu', (options) => new EduDevice(options));
registerSimModel('rawpci-testdev', (options) => new TestDevDevice(options));
registerSimModel('host-bridge', (options) => new HostBridgeDevice(options));
