/**
 * Clustered JetStream against three real `nats-server -js` processes (issue 18's conformance
 * proof): the scenarios of jetstream-cluster-scenarios.ts, which will run unchanged against the
 * embedded `createCluster({ jetstream: true })`. Part of `npm run test:conformance` (it needs
 * NATS_SERVER_BIN).
 */
import { natsServerBin } from '../jetstream/real-js.js';
import { startRealCluster } from '../helpers/real-cluster.js';
import { describeClusterScenarios } from './jetstream-cluster-scenarios.js';

describeClusterScenarios('nats-server', () => startRealCluster(natsServerBin()));
