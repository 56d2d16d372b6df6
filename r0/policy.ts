// Who may open which device through ring 0's service: a policy file of rules matched against a connection's peer credentials (SO_PEERCRED) and the device's address, IDs and class.
//
// The rules use lspci's own selectors: `slot` is lspci -s ([[[[domain]:]bus]:][slot][.[func]])
// and `id` is lspci -d ([vendor]:[device][:class[:prog-if]]), so `rawpci list -s SLOT -d ID`
// shows exactly the devices a rule grants. Root may open anything; everyone else is refused
// unless a rule names their user (or uid) or one of their groups (or gids), and the device.
// The policy is read once at start: names are resolved to ids then (getent, so NSS users and
// groups work), and a bad file is an error naming the file, the rule and the field.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Bdf } from '../shared/bdf.js';
import { VERR_ACCESS_DENIED } from '../shared/status.js';
import { emptyFilter, matchFilter, type PciFilter, parseIdFilter, parseSlotFilter } from '../shared/sysfs/filter.js';

/** Where `rawpci serve` looks for the policy when `--policy` is not given. */
export const DEFAULT_POLICY_PATH = '/etc/rawpci/policy.json';

const principal = z.union([z.string().min(1), z.number().int().nonnegative()]);
const ruleSchema = z
  .object({
    users: z.array(principal).optional(),
    groups: z.array(principal).optional(),
    slot: z.string().optional(),
    id: z.string().optional(),
    comment: z.string().optional(),
  })
  .strict()
  .refine((r) => (r.users?.length ?? 0) + (r.groups?.length ?? 0) > 0, { message: 'a rule needs "users" or "groups" (whom it grants)' });

/** The policy file's shape (version 1). */
export const policySchema = z
  .object({
    version: z.literal(1),
    rules: z.array(ruleSchema),
    /** Live sessions one uid other than root (and the service's own) may hold at once (default: every worker but one). */
    maxSessionsPerUser: z.number().int().min(1).optional(),
  })
  .strict();

/** The file as written. */
export type PolicyDocument = z.infer<typeof policySchema>;

/** The credentials of a connection (SO_PEERCRED) and the process's supplementary groups. */
export interface PeerIdentity {
  uid: number;
  gid: number;
  pid: number;
  /** Supplementary gids (from /proc/PID/status, see {@link peerGroups}); the primary gid counts anyway. */
  groups?: readonly number[];
}

/** What the policy looks at in a device: its address, IDs and 24-bit class code (base, sub, prog-if). */
export interface PolicyDevice {
  bdf: Bdf;
  vendor: number;
  device: number;
  classCode: number;
}

/** The answer: 0 and the index of the granting rule (-1 for root), or VERR_ACCESS_DENIED and a message naming the rule to add. */
export type PolicyDecision = { rc: 0; rule: number } | { rc: typeof VERR_ACCESS_DENIED; msg: string };

/** Turns user and group names into ids, and back for messages; the default asks getent (NSS). */
export interface NameResolver {
  uid(name: string): number | undefined;
  gid(name: string): number | undefined;
  userName(uid: number): string | undefined;
}

/** A bad policy file: the message names the file, the rule and what to fix. */
export class PolicyError extends Error {
  override name = 'PolicyError';
}

interface Rule {
  index: number;
  uids: Set<number>;
  gids: Set<number>;
  filter: PciFilter;
}

function getent(db: 'passwd' | 'group', key: string): string[] | undefined {
  try {
    return execFileSync('getent', [db, key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')[0]!
      .split(':');
  } catch {
    return undefined;
  }
}

/** The system's users and groups through getent(1): local files, LDAP, whatever NSS has. */
export const getentResolver: NameResolver = {
  uid: (name) => {
    const f = getent('passwd', name);
    return f ? Number(f[2]) : undefined;
  },
  gid: (name) => {
    const f = getent('group', name);
    return f ? Number(f[2]) : undefined;
  },
  userName: (uid) => getent('passwd', String(uid))?.[0],
};

/**
 * The supplementary groups of process `pid` (the `Groups:` line of /proc/PID/status), read
 * when a VM connects; empty when the process is gone or the line is missing.
 */
export function peerGroups(pid: number, procRoot = '/proc'): number[] {
  try {
    const line = readFileSync(`${procRoot}/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Groups:'));
    return line ? line.slice(7).trim().split(/\s+/).filter(Boolean).map(Number) : [];
  } catch {
    return [];
  }
}

const hex = (v: number, n: number) => v.toString(16).padStart(n, '0');

/** The rules of one policy file, checked at OPEN_DEVICE time. */
export class AccessPolicy {
  /** Where the rules came from (a path, or a description). */
  readonly source: string;
  /** The file's `maxSessionsPerUser` (undefined: not set; rawpci serve then allows every worker but one). */
  readonly maxSessionsPerUser: number | undefined;
  readonly #rules: Rule[];
  readonly #names: NameResolver;

  private constructor(source: string, rules: Rule[], names: NameResolver, maxSessionsPerUser?: number) {
    this.source = source;
    this.#rules = rules;
    this.#names = names;
    this.maxSessionsPerUser = maxSessionsPerUser;
  }

  /** No rules: root only. `source` says why, for messages (e.g. "no policy file at /etc/rawpci/policy.json"). */
  static rootOnly(source: string, names: NameResolver = getentResolver): AccessPolicy {
    return new AccessPolicy(source, [], names);
  }

  /** Reads and checks a policy file. Throws {@link PolicyError} naming the file, the rule and the field. */
  static load(path: string, names: NameResolver = getentResolver): AccessPolicy {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new PolicyError(`cannot read the policy file ${path} (${(e as NodeJS.ErrnoException).code}): create it or name another with --policy`);
    }
    return AccessPolicy.parse(text, path, names);
  }

  /** Checks a policy document given as JSON text; `source` names it in errors. Throws {@link PolicyError}. */
  static parse(text: string, source: string, names: NameResolver = getentResolver): AccessPolicy {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new PolicyError(`${source} is not JSON (${(e as Error).message}): see docs/policy.md for the format`);
    }
    const parsed = policySchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const where = issue.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') : '(top level)';
      throw new PolicyError(
        `${source}: ${where}: ${issue.message} (the format: {"version": 1, "rules": [{"users": [...], "groups": [...], "slot": "...", "id": "..."}]})`,
      );
    }
    const rules = parsed.data.rules.map((r, index): Rule => {
      const at = `${source}: rules[${index}]`;
      const ids = (list: (string | number)[] | undefined, kind: 'user' | 'group') =>
        new Set(
          (list ?? []).map((p) => {
            if (typeof p === 'number') return p;
            if (/^\d+$/.test(p)) return Number(p);
            const id = kind === 'user' ? names.uid(p) : names.gid(p);
            if (id === undefined)
              throw new PolicyError(
                `${at}: no ${kind} named '${p}' on this system (getent ${kind === 'user' ? 'passwd' : 'group'} ${p} finds none): fix the name or use a numeric id`,
              );
            return id;
          }),
        );
      const filter = emptyFilter();
      try {
        if (r.slot !== undefined) parseSlotFilter(filter, r.slot);
        if (r.id !== undefined) parseIdFilter(filter, r.id);
      } catch (e) {
        throw new PolicyError(`${at}: ${(e as Error).message} (slot is lspci -s syntax, id is lspci -d syntax)`);
      }
      return { index, uids: ids(r.users, 'user'), gids: ids(r.groups, 'group'), filter };
    });
    return new AccessPolicy(source, rules, names, parsed.data.maxSessionsPerUser);
  }

  /** How many rules the policy has. */
  get size(): number {
    return this.#rules.length;
  }

  /**
   * May `peer` open `dev`? Root (uid 0) always may. Otherwise the first rule naming the peer's
   * uid, primary gid or a supplementary gid and matching the device grants it; none does:
   * VERR_ACCESS_DENIED, with a message naming the device, the peer and the rule to add.
   */
  check(peer: PeerIdentity, dev: PolicyDevice): PolicyDecision {
    if (peer.uid === 0) return { rc: 0, rule: -1 };
    const gids = new Set([peer.gid, ...(peer.groups ?? [])]);
    for (const r of this.#rules) {
      if (!r.uids.has(peer.uid) && ![...gids].some((g) => r.gids.has(g))) continue;
      if (matchFilter(r.filter, dev)) return { rc: 0, rule: r.index };
    }
    const user = this.#names.userName(peer.uid);
    const who = user ? `user ${user} (uid ${peer.uid})` : `uid ${peer.uid}`;
    const id = `${hex(dev.vendor, 4)}:${hex(dev.device, 4)}`;
    const rule = JSON.stringify({ users: [user ?? peer.uid], slot: dev.bdf.toString() });
    return {
      rc: VERR_ACCESS_DENIED,
      msg: `${who}, pid ${peer.pid}, may not open ${dev.bdf} [${id}] (class ${hex(dev.classCode >> 8, 4)}): no rule of ${this.source} grants it; to allow it, add ${rule} to its "rules" (or "id": "${id}" for every such device), then restart rawpci serve`,
    };
  }
}
