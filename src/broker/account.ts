/**
 * Accounts: separate subject spaces. A message published in one account never reaches a
 * subscription in another. `$G` is the global account of every client not assigned to one.
 */
import { Sublist } from '../subject/sublist.js';
import type { AnySub } from './core.js';

/** The global account's name (nats-server's `$G`). */
export const GLOBAL_ACCOUNT = '$G';

export class Account {
  readonly sublist = new Sublist<AnySub>();
  constructor(readonly name: string) {}
}
