/**
 * `npm run compare -- --size ci --mode container`, end to end: each shape as
 * its own Compose project (deploy/compose), images built from the one
 * Dockerfile, every experiment, the report written. Its own image tag,
 * project names and host ports, so it runs beside deploy/compose/stack.spec.ts.
 *
 * Needs Docker and Docker Compose; without them it fails under CI=true and
 * says what to install, and elsewhere it is skipped with that reason.
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIZES, checkDocker, compare, containerDeployer, missingFigures, writeReport } from '@portal/loadgen';
import type { CompareResult, WrittenReport } from '@portal/loadgen';
import { expectFailureIsolation, expectNoErrorsOutsideTheDrill } from './compare.checks.js';

const docker = await checkDocker();
const required = process.env.CI === 'true';
if (!docker.ok && !required) console.warn(`[compare] skipping the container-mode comparison: ${docker.reason}`);

describe.skipIf(!docker.ok && !required)('npm run compare at the CI size (container mode)', () => {
  let result: CompareResult;
  let written: WrittenReport;
  const dir = mkdtempSync(join(tmpdir(), 'compare-container-spec-'));

  beforeAll(async () => {
    if (!docker.ok) throw new Error(`This test needs Docker: ${docker.reason}`);
    const log = (line: string) => console.log(`[compare] ${line}`);
    // 'always': images built from this tree, not left over from another commit (the layer cache keeps it quick).
    const deployer = containerDeployer({ tag: 'comparetest', build: 'always', projectPrefix: `portal-comparetest-${process.pid}`, log });
    result = await compare({ deployer, size: SIZES.ci, log });
    written = await writeReport(result, dir, { date: 'test', command: 'compare.container.spec.ts', commit: 'test', machine: 'test', bus: 'Kafka' });
  }, 40 * 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has every figure, non-zero where it must be, image sizes included', () => {
    expect(missingFigures(result)).toEqual([]);
    expect(result.mode).toBe('container');
    expect(result.monolith.imageBytes).toBeGreaterThan(0);
    // Seven app images and Kafka's against one app image: the services' images weigh more.
    expect(result.services.imageBytes).toBeGreaterThan(result.monolith.imageBytes ?? Infinity);
  });

  it('counts layers the images share once', () => {
    // Counted whole, the seven app images alone would outweigh the shape; with
    // their Node base counted once, the shape with Kafka and PostgreSQL weighs less.
    const apps = ['auth', 'news', 'blog', 'webtoon', 'payment', 'analytics', 'gateway'].map((app) => `portal/${app}:comparetest`);
    const inspected = spawnSync('docker', ['image', 'inspect', '-f', '{{.Size}}', ...apps], { encoding: 'utf8' });
    expect(inspected.status, inspected.stderr).toBe(0);
    const whole = inspected.stdout.trim().split('\n').reduce((sum, line) => sum + Number(line), 0);
    expect(whole).toBeGreaterThan(0);
    expect(result.services.imageBytes).toBeLessThan(whole);
  });

  it('ran each shape with its database (and the services with Kafka), as containers', () => {
    expect(result.monolith.parts).toEqual(['monolith', 'postgres']);
    expect([...result.services.parts].sort()).toEqual(['analytics', 'auth', 'blog', 'gateway', 'kafka', 'news', 'payment', 'postgres', 'webtoon']);
  });

  it('ran without errors outside the crash drill', () => expectNoErrorsOutsideTheDrill(result));

  it('measured failure isolation: with payment down, the other requests fail in the monolith and not in the services', () => expectFailureIsolation(result));

  it('ran webtoon at 1 and 2 replicas', () => {
    expect(result.scaling.runs.map((r) => r.replicas)).toEqual([1, 2]);
    for (const run of result.scaling.runs) expect(run.webtoon.requests, `webtoon x${run.replicas}`).toBeGreaterThan(0);
  });

  it('wrote the Markdown report with image sizes, the chart and the figures as JSON', async () => {
    const markdown = await readFile(written.files.markdown, 'utf8');
    expect(markdown).toBe(written.markdown);
    expect(markdown).toMatch(/\| image size \(every container's image, shared layers once\) \| \d+ MiB \| \d+ MiB \|/);
    expect(markdown).toContain('container mode');
    expect(markdown).not.toMatch(/NaN|undefined|Infinity|n\/a/);
    const svg = await readFile(written.files.chart, 'utf8');
    expect(svg).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);
    const json = JSON.parse(await readFile(written.files.json, 'utf8')) as { result: CompareResult };
    expect(json.result.services.imageBytes).toBe(result.services.imageBytes);
  });
});
