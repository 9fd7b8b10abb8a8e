import { readFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIZES, compare, missingFigures, processDeployer, writeReport } from '@portal/loadgen';
import type { CompareResult, WrittenReport } from '@portal/loadgen';
import { expectFailureIsolation, expectNoErrorsOutsideTheDrill } from './compare.checks.js';

/** `npm run compare -- --size ci`, end to end: both shapes as real processes, every experiment, the report written. */
describe('npm run compare at the CI size (process mode)', () => {
  let result: CompareResult;
  let written: WrittenReport;
  const dir = mkdtempSync(join(tmpdir(), 'compare-spec-'));

  beforeAll(async () => {
    result = await compare({ deployer: processDeployer, size: SIZES.ci, log: (line) => console.log(`[compare] ${line}`) });
    written = await writeReport(result, dir, { date: 'test', command: 'compare.spec.ts', commit: 'test', machine: 'test', bus: 'in process' });
  }, 900_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has every figure, non-zero where it must be', () => {
    expect(missingFigures(result)).toEqual([]);
  });

  it('ran without errors outside the crash drill', () => expectNoErrorsOutsideTheDrill(result));

  it('measured failure isolation: with payment down, the other requests fail in the monolith and not in the services', () => expectFailureIsolation(result));

  it('ran webtoon at 1 and 2 replicas, with the other services at one', () => {
    expect(result.scaling.runs.map((r) => r.replicas)).toEqual([1, 2]);
    expect(result.services.parts.filter((p) => p.startsWith('webtoon'))).toEqual(['webtoon']);
  });

  it('wrote the Markdown report, the chart and the figures as JSON', async () => {
    const markdown = await readFile(written.files.markdown, 'utf8');
    expect(markdown).toBe(written.markdown);
    expect(markdown).toContain('n/a (process mode)');
    expect(markdown).not.toMatch(/NaN|undefined|Infinity/);
    const svg = await readFile(written.files.chart, 'utf8');
    expect(svg).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);
    const json = JSON.parse(await readFile(written.files.json, 'utf8')) as { result: CompareResult };
    expect(json.result.services.failure.window.requests).toBe(result.services.failure.window.requests);
  });
});
