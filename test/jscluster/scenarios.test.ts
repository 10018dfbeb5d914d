/**
 * The clustered JetStream scenarios of the conformance run (test/conformance/jetstream-cluster-scenarios.ts),
 * which assert what three real `nats-server -js` processes show, run unchanged against the
 * embedded `createCluster({ size: 3, jetstream: true })`.
 */
import { describeClusterScenarios } from '../conformance/jetstream-cluster-scenarios.js';
import { startEmbeddedCluster } from './embedded-cluster.js';

describeClusterScenarios('embedded', () => startEmbeddedCluster());
