/**
 * A small NetworkPolicy evaluator (networking.k8s.io/v1 semantics), so tests
 * can say which pod reaches which port without a cluster. A connection is
 * allowed when the source may send it (no policy selects the source for
 * Egress, or one of those that do allows it) and the destination may receive
 * it (the same for Ingress). Sources outside the cluster have no policies and
 * match only ipBlock peers; in-cluster pods never match an ipBlock (their
 * addresses are the cluster's, which no policy here names).
 */

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    readonly values?: readonly string[];
  }[];
}

export interface PolicyPeer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] };
}

export interface PolicyPort {
  readonly protocol?: string;
  readonly port?: number | string;
  readonly endPort?: number;
}

export interface NetworkPolicy {
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly spec: {
    readonly podSelector: LabelSelector;
    readonly policyTypes?: readonly ('Ingress' | 'Egress')[];
    readonly ingress?: readonly { readonly from?: readonly PolicyPeer[]; readonly ports?: readonly PolicyPort[] }[];
    readonly egress?: readonly { readonly to?: readonly PolicyPeer[]; readonly ports?: readonly PolicyPort[] }[];
  };
}

/** A pod as policies see it: where it is, its labels, the ports it declares by name. */
export interface PodEndpoint {
  readonly kind: 'pod';
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly namedPorts?: Readonly<Record<string, number>>;
}

/** Something outside the cluster: a browser on the internet, a load balancer. */
export interface ExternalEndpoint {
  readonly kind: 'external';
  readonly name: string;
  readonly ip: string;
}

export type Endpoint = PodEndpoint | ExternalEndpoint;

export interface Connection {
  readonly port: number;
  readonly protocol?: 'TCP' | 'UDP';
}

export function matchesSelector(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const expression of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, expression.key);
    const value = labels[expression.key];
    const values = expression.values ?? [];
    const ok =
      expression.operator === 'In'
        ? has && values.includes(value as string)
        : expression.operator === 'NotIn'
          ? !has || !values.includes(value as string)
          : expression.operator === 'Exists'
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

function ipToNumber(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: ${ip}`);
  }
  return parts.reduce((n, p) => n * 256 + p, 0);
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base = '', bitsText = '32'] = cidr.split('/');
  const bits = Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  const size = 2 ** (32 - bits);
  return Math.floor(ipToNumber(ip) / size) === Math.floor(ipToNumber(base) / size);
}

function peerMatches(
  peer: PolicyPeer,
  policyNamespace: string,
  other: Endpoint,
  namespaceLabels: (namespace: string) => Readonly<Record<string, string>>,
): boolean {
  if (peer.ipBlock) {
    return (
      other.kind === 'external' &&
      inCidr(other.ip, peer.ipBlock.cidr) &&
      !(peer.ipBlock.except ?? []).some((cidr) => inCidr(other.ip, cidr))
    );
  }
  if (other.kind === 'external') return false;
  const namespaceOk = peer.namespaceSelector
    ? matchesSelector(peer.namespaceSelector, namespaceLabels(other.namespace))
    : other.namespace === policyNamespace;
  const podOk = peer.podSelector ? matchesSelector(peer.podSelector, other.labels) : true;
  return namespaceOk && podOk;
}

function portMatches(ports: readonly PolicyPort[] | undefined, connection: Connection, target: Endpoint): boolean {
  if (!ports || ports.length === 0) return true;
  const protocol = connection.protocol ?? 'TCP';
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    // A named port means the destination pod's container port of that name.
    const number =
      typeof p.port === 'number' ? p.port : target.kind === 'pod' ? target.namedPorts?.[p.port] : undefined;
    if (number === undefined) return false;
    return p.endPort === undefined ? connection.port === number : connection.port >= number && connection.port <= p.endPort;
  });
}

const policyNamespace = (policy: NetworkPolicy, fallback: string) => policy.metadata.namespace ?? fallback;

const types = (policy: NetworkPolicy): readonly ('Ingress' | 'Egress')[] =>
  policy.spec.policyTypes ?? (policy.spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);

export interface NetworkModel {
  readonly policies: readonly NetworkPolicy[];
  /** Labels of each namespace; `kubernetes.io/metadata.name` is added as Kubernetes does. */
  readonly namespaces: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The namespace of policies that do not name one. */
  readonly defaultNamespace: string;
}

/** Whether `from` may open `connection` to `to` under the model's policies. */
export function allowed(model: NetworkModel, from: Endpoint, to: Endpoint, connection: Connection): boolean {
  const namespaceLabels = (namespace: string) => ({
    ...(model.namespaces[namespace] ?? {}),
    'kubernetes.io/metadata.name': namespace,
  });
  const selecting = (pod: PodEndpoint, type: 'Ingress' | 'Egress') =>
    model.policies.filter(
      (policy) =>
        policyNamespace(policy, model.defaultNamespace) === pod.namespace &&
        types(policy).includes(type) &&
        matchesSelector(policy.spec.podSelector, pod.labels),
    );

  if (from.kind === 'pod') {
    const egress = selecting(from, 'Egress');
    const sends =
      egress.length === 0 ||
      egress.some((policy) =>
        (policy.spec.egress ?? []).some(
          (rule) =>
            portMatches(rule.ports, connection, to) &&
            (!rule.to ||
              rule.to.length === 0 ||
              rule.to.some((peer) => peerMatches(peer, policyNamespace(policy, model.defaultNamespace), to, namespaceLabels))),
        ),
      );
    if (!sends) return false;
  }
  if (to.kind === 'pod') {
    const ingress = selecting(to, 'Ingress');
    return (
      ingress.length === 0 ||
      ingress.some((policy) =>
        (policy.spec.ingress ?? []).some(
          (rule) =>
            portMatches(rule.ports, connection, to) &&
            (!rule.from ||
              rule.from.length === 0 ||
              rule.from.some((peer) => peerMatches(peer, policyNamespace(policy, model.defaultNamespace), from, namespaceLabels))),
        ),
      )
    );
  }
  return true;
}
