import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { gatewayConfig } from '@portal/api-gateway';
import { APPS } from '../docker/prune.js';

/** The files the monitoring tests read, and the queries inside them. */
export const MONITORING_DIR = dirname(fileURLToPath(import.meta.url));
export const PROMETHEUS_DIR = join(MONITORING_DIR, 'prometheus');
export const RULES_DIR = join(PROMETHEUS_DIR, 'rules');
export const GRAFANA_DIR = join(MONITORING_DIR, 'grafana');
export const DASHBOARDS_DIR = join(GRAFANA_DIR, 'dashboards');

/** Where both Prometheus configs look for the rule files (their rule_files glob). */
export const RULES_MOUNT = '/etc/prometheus/rules';
export const RULES_GLOB = `${RULES_MOUNT}/*.rules.yml`;
/** The uid of the provisioned data source, which every panel must name. */
export const DATASOURCE_UID = 'prometheus';
/** The apps Prometheus scrapes, with the port each serves /metrics on: every deployable app, on its HTTP port but the gateway (its own metrics port). */
export const SCRAPED_APPS: Readonly<Record<string, number>> = { ...APPS, gateway: gatewayConfig({}).metricsPort };

export function readYaml<T>(path: string): T {
  return parse(readFileSync(path, 'utf8')) as T;
}

/** rules/*.rules.yml: what Prometheus loads (the unit tests sit beside them as *.test.yml). */
export function ruleFileNames(): string[] {
  return readdirSync(RULES_DIR)
    .filter((name) => name.endsWith('.rules.yml'))
    .sort();
}

export function ruleTestFileNames(): string[] {
  return readdirSync(RULES_DIR)
    .filter((name) => name.endsWith('.test.yml'))
    .sort();
}

export interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface LoadedRule {
  readonly file: string;
  readonly group: string;
  readonly rule: Rule;
}

export function loadRules(): LoadedRule[] {
  return ruleFileNames().flatMap((file) => {
    const { groups } = readYaml<{ groups: { name: string; rules: Rule[] }[] }>(join(RULES_DIR, file));
    return groups.flatMap((group) => group.rules.map((rule) => ({ file, group: group.name, rule })));
  });
}

export interface Target {
  readonly refId: string;
  readonly expr?: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
}

export interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  readonly targets?: readonly Target[];
  /** Collapsed rows keep their panels here. */
  readonly panels?: readonly Panel[];
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly Panel[];
}

export function dashboardFileNames(): string[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort();
}

export function loadDashboards(): { file: string; dashboard: Dashboard }[] {
  return dashboardFileNames().map((file) => ({
    file,
    dashboard: JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as Dashboard,
  }));
}

/** Every panel, those inside rows included; rows themselves query nothing. */
export function panelsOf(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((panel) => [
    ...(panel.type === 'row' ? [] : [panel]),
    ...(panel.panels ?? []).filter((inner) => inner.type !== 'row'),
  ]);
}

/**
 * Grafana replaces its interval variables before it sends a query; this does
 * the same (with a typical value), so a panel's query can be parsed and run
 * as plain PromQL.
 */
export function asPromQL(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '15s').replaceAll('$__range', '1h');
}

export interface Query {
  /** Where the query comes from, for messages: `http.rules.yml HighErrorRatio`, `overview.json "Requests per second" A`. */
  readonly where: string;
  readonly expr: string;
}

export function ruleQueries(): Query[] {
  return loadRules().map(({ file, rule }) => ({ where: `${file} ${rule.alert ?? rule.record ?? '?'}`, expr: rule.expr }));
}

export function dashboardQueries(): Query[] {
  return loadDashboards().flatMap(({ file, dashboard }) =>
    panelsOf(dashboard).flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({
        where: `${file} "${panel.title}" ${target.refId}`,
        expr: asPromQL(target.expr ?? ''),
      })),
    ),
  );
}
