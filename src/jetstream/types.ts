/**
 * Shapes the JetStream modules share: account limits and usage totals.
 */

/** An account's JetStream limits (nats-server's JetStreamAccountLimits); -1 = unlimited. */
export interface JsAccountLimits {
  readonly max_memory: number;
  readonly max_storage: number;
  readonly max_streams: number;
  readonly max_consumers: number;
  readonly max_ack_pending: number;
  readonly memory_max_stream_bytes: number;
  readonly storage_max_stream_bytes: number;
  readonly max_bytes_required: boolean;
}

/** nats-server's defaultJSAccountTiers: nothing limited. */
export const UNLIMITED: JsAccountLimits = {
  max_memory: -1, max_storage: -1, max_streams: -1, max_consumers: -1, max_ack_pending: -1,
  memory_max_stream_bytes: -1, storage_max_stream_bytes: -1, max_bytes_required: false,
};

/** Usage totals (one account's, or the server's). */
export interface JsUsage {
  memory: number;
  storage: number;
  reservedMemory: number;
  reservedStorage: number;
  streams: number;
  consumers: number;
  messages: number;
  bytes: number;
}

