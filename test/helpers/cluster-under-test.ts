/**
 * A three-or-more member JetStream cluster as the clustered-JetStream scenarios, the Jepsen-style
 * test and the R3 benchmark see it: client URLs and fault controls, the same whether the members
 * are embedded (`createCluster({ jetstream: true })`) or real `nats-server -js` processes.
 */
export interface ClusterUnderTest {
  /** Number of members (killed ones included). */
  readonly size: number;
  /** Client URLs of the members, by index (`nats://127.0.0.1:PORT`). */
  readonly urls: readonly string[];
  /** The `server_name` of member `i` (what STREAM.INFO's `cluster.leader` names). */
  serverName(i: number): string;
  /** The index of the member named `name`, or -1. */
  indexOf(name: string): number;
  /** Crashes member `i` (no flush, no goodbye); it stays down until `restart(i)`. */
  kill(i: number): Promise<void>;
  /** Brings member `i` back on the same ports with the same store; resolves once it serves clients. */
  restart(i: number): Promise<void>;
  /**
   * Cuts the routes between groups of member indices (embedded members only: real processes
   * cannot be partitioned from here, so this is undefined for them).
   */
  readonly partition?: (...groups: number[][]) => Promise<void>;
  /** Undoes `partition()`. */
  readonly heal?: () => Promise<void>;
  /** Stops every member and removes their stores. */
  close(): Promise<void>;
}
