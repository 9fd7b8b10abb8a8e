import { describe, expect, it } from 'vitest';
import { allowed, inCidr, matchesSelector } from './network.js';
import type { NetworkModel, NetworkPolicy, PodEndpoint } from './network.js';

const pod = (name: string, labels: Record<string, string>, namespace = 'app'): PodEndpoint => ({
  kind: 'pod',
  name,
  namespace,
  labels,
  namedPorts: { http: 8080 },
});
const web = pod('web', { role: 'web' });
const db = pod('db', { role: 'db' });
const stranger = pod('stranger', { role: 'web' }, 'elsewhere');
const internet = { kind: 'external', name: 'internet', ip: '203.0.113.9' } as const;

const model = (...policies: NetworkPolicy[]): NetworkModel => ({
  policies,
  namespaces: { app: { team: 'a' }, elsewhere: {} },
  defaultNamespace: 'app',
});
const denyAll: NetworkPolicy = {
  metadata: { name: 'deny' },
  spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
};

describe('the NetworkPolicy evaluator', () => {
  it('allows everything when no policy selects either end', () => {
    expect(allowed(model(), web, db, { port: 5432 })).toBe(true);
    expect(allowed(model(), internet, db, { port: 5432 })).toBe(true);
  });

  it('denies everything once a default deny selects both ends', () => {
    expect(allowed(model(denyAll), web, db, { port: 5432 })).toBe(false);
    expect(allowed(model(denyAll), internet, web, { port: 8080 })).toBe(false);
  });

  it('needs both the egress of the source and the ingress of the destination', () => {
    const dbIngress: NetworkPolicy = {
      metadata: { name: 'db' },
      spec: {
        podSelector: { matchLabels: { role: 'db' } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { role: 'web' } } }], ports: [{ port: 5432 }] }],
      },
    };
    const webEgress: NetworkPolicy = {
      metadata: { name: 'web' },
      spec: {
        podSelector: { matchLabels: { role: 'web' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ podSelector: { matchLabels: { role: 'db' } } }], ports: [{ protocol: 'TCP', port: 5432 }] }],
      },
    };
    expect(allowed(model(denyAll, dbIngress), web, db, { port: 5432 })).toBe(false);
    expect(allowed(model(denyAll, dbIngress, webEgress), web, db, { port: 5432 })).toBe(true);
    expect(allowed(model(denyAll, dbIngress, webEgress), web, db, { port: 5433 })).toBe(false);
    expect(allowed(model(denyAll, dbIngress, webEgress), web, db, { port: 5432, protocol: 'UDP' })).toBe(false);
    expect(allowed(model(denyAll, dbIngress, webEgress), db, web, { port: 8080 })).toBe(false);
    // A podSelector alone means the policy's own namespace.
    expect(allowed(model(dbIngress), stranger, db, { port: 5432 })).toBe(false);
  });

  it('matches namespace selectors, named ports, port ranges and ip blocks', () => {
    const open: NetworkPolicy = {
      metadata: { name: 'open' },
      spec: {
        podSelector: { matchExpressions: [{ key: 'role', operator: 'In', values: ['web'] }] },
        ingress: [
          { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'elsewhere' } } }], ports: [{ port: 'http' }] },
          { from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['203.0.113.0/24'] } }], ports: [{ port: 9000, endPort: 9010 }] },
        ],
      },
    };
    expect(allowed(model(open), stranger, web, { port: 8080 })).toBe(true);
    expect(allowed(model(open), stranger, web, { port: 8081 })).toBe(false);
    expect(allowed(model(open), db, web, { port: 8080 })).toBe(false);
    expect(allowed(model(open), internet, web, { port: 9005 })).toBe(false);
    expect(allowed(model(open), { kind: 'external', name: 'lb', ip: '198.51.100.1' }, web, { port: 9005 })).toBe(true);
    expect(allowed(model(open), { kind: 'external', name: 'lb', ip: '198.51.100.1' }, web, { port: 9011 })).toBe(false);
    // An ipBlock never matches a pod.
    expect(allowed(model(open), db, web, { port: 9005 })).toBe(false);
  });

  it('reads selectors and CIDRs the Kubernetes way', () => {
    expect(matchesSelector({}, {})).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, { a: '' })).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['x'] }] }, {})).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'Exists' }] }, { a: 'x' })).toBe(true);
    expect(inCidr('10.1.2.3', '10.0.0.0/8')).toBe(true);
    expect(inCidr('11.1.2.3', '10.0.0.0/8')).toBe(false);
    expect(inCidr('1.2.3.4', '0.0.0.0/0')).toBe(true);
    expect(() => inCidr('1.2.3', '0.0.0.0/0')).toThrow(/IPv4/);
  });
});
