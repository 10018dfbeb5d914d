/** Server-wide message and connection counters (since the server started). */
export interface CoreStats {
  inMsgs: number;
  inBytes: number;
  outMsgs: number;
  outBytes: number;
  slowConsumers: number;
  totalConnections: number;
}
