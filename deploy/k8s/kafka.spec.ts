/**
 * The Kafka StatefulSet for real, per overlay: as many brokers as it has
 * replicas, each pod run as a kubelet would (pod.runner.ts: the init
 * container seeding the config folder, then the broker with pod kafka-<i>'s
 * environment, its user, a read-only root filesystem, no capabilities),
 * reachable by the names the headless Service gives them, started together as
 * podManagementPolicy Parallel does. They must form their KRaft quorum and
 * take a topic replicated as the services create theirs
 * (KAFKA_REPLICATION_FACTOR), fully in sync. KAFKA_IMAGE may point at a local
 * stand-in for apache/kafka.
 */
import { fileURLToPath } from 'node:url';
import { Network, Wait } from 'testcontainers';
import type { StartedNetwork, StartedTestContainer } from 'testcontainers';
import { afterAll, describe, expect, it } from 'vitest';
import { UPSTREAM_IMAGES, readTestingEnv, requireDocker } from '@portal/testing';
import { buildKustomization } from './kustomize.js';
import { containerEnv, generatedSecrets, portalContainer, spec, workloads } from './manifests.js';
import type { Container, Workload } from './manifests.js';
import { runPod } from './pod.runner.js';
import type { RunningPod } from './pod.runner.js';

const NAMESPACE = 'portal';
const started: { network?: StartedNetwork; pods: RunningPod[] }[] = [];

afterAll(async () => {
  for (const run of started) {
    await Promise.all(run.pods.map((p) => p.stop()));
    await run.network?.stop().catch(() => undefined);
  }
});

for (const overlayName of ['local', 'production']) {
  describe(`Kafka as overlays/${overlayName} runs it`, () => {
    it('forms its KRaft quorum and keeps a topic replicated as the services create theirs, in sync', async () => {
      // With the Secrets cluster:up makes (the overlays hold none): the services' env names them.
      const objects = [...buildKustomization(fileURLToPath(new URL(`./overlays/${overlayName}`, import.meta.url))), ...generatedSecrets()];
      const kafka = workloads(objects).find((w) => w.name === 'kafka') as Workload;
      const statefulSet = spec<{ serviceName: string; replicas?: number; podManagementPolicy?: string }>(kafka.object);
      expect(statefulSet.podManagementPolicy).toBe('Parallel');
      const brokers = statefulSet.replicas ?? 1;
      const webtoon = workloads(objects).find((w) => w.name === 'webtoon') as Workload;
      const replication = Number(containerEnv(objects, portalContainer(webtoon) as Container).KAFKA_REPLICATION_FACTOR);

      const testing = readTestingEnv();
      await requireDocker(`${brokers} Kafka broker container(s) (the StatefulSet under test)`, 'KAFKA_IMAGE');
      const run: (typeof started)[number] = { pods: [] };
      started.push(run);
      run.network = await new Network().start();
      const network = run.network;
      const hostOf = (i: number) => `kafka-${i}.${statefulSet.serviceName}.${NAMESPACE}.svc.cluster.local`;
      console.log(`kafka (${overlayName}): starting ${brokers} pod(s) of ${testing.kafkaImage}, read-only root, topics replicated ${replication}x`);
      const began = Date.now();
      const pods = await Promise.all(
        Array.from({ length: brokers }, (_, i) =>
          runPod({
            objects,
            workload: kafka,
            index: i,
            image: (image) => (image === UPSTREAM_IMAGES.kafka ? testing.kafkaImage : image),
            network,
            aliases: [hostOf(i)],
            waitStrategy: Wait.forLogMessage(/Kafka Server started/),
            startupTimeoutMs: 240_000,
          }).then((pod) => {
            run.pods.push(pod);
            return pod;
          }),
        ),
      );
      console.log(`kafka (${overlayName}): ${brokers} broker(s) up after ${Math.round((Date.now() - began) / 1000)} s`);

      const first = pods[0]?.containers[0] as StartedTestContainer;
      const topics = async (...args: string[]) => {
        const result = await first.exec(['/opt/kafka/bin/kafka-topics.sh', '--bootstrap-server', `${hostOf(0)}:9092`, ...args]);
        if (result.exitCode !== 0) throw new Error(`kafka-topics.sh ${args.join(' ')} failed:\n${result.output}`);
        return result.output;
      };
      await topics('--create', '--topic', 'deploy-check', '--partitions', '3', '--replication-factor', String(replication));
      const description = await topics('--describe', '--topic', 'deploy-check');
      const partitions = description.split('\n').filter((l) => /\bPartition: \d+/.test(l));
      expect(partitions).toHaveLength(3);
      for (const line of partitions) {
        const replicas = /Replicas: ([\d,]+)/.exec(line)?.[1]?.split(',') ?? [];
        const isr = /Isr: ([\d,]+)/.exec(line)?.[1]?.split(',') ?? [];
        expect(replicas, line).toHaveLength(replication);
        expect(new Set(isr), line).toEqual(new Set(replicas));
      }
      if (brokers > 1) {
        // Every broker holds replicas: the topic really spans the cluster.
        const holders = new Set(partitions.flatMap((l) => /Replicas: ([\d,]+)/.exec(l)?.[1]?.split(',') ?? []));
        expect(holders).toEqual(new Set(Array.from({ length: brokers }, (_, i) => String(i))));
      }
    }, 400_000);
  });
}
