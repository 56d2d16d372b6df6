// The parameter names of every raw PCI operation's block (shared/protocol.ts), for tests that send hostile or random parameter maps.

/** Every `in` field name of every parameter block, in protocol order. */
export const PARAM_KEYS = [
  'pciAddress',
  'flags',
  'region',
  'port',
  'cb',
  'value',
  'address',
  'offset',
  'guestIrq',
  'hostIrq',
  'state',
  'hostStart',
  'guestStart',
  'size',
  'action',
  'timeoutMs',
  'kind',
  'mapId',
  'startAddress',
  'regionSize',
] as const;
