import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { APPS, isAppName, planPrune } from './prune.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const readJson = <T>(file: string) => JSON.parse(readFileSync(`${ROOT}/${file}`, 'utf8')) as T;
const plan = (app: keyof typeof APPS) =>
  planPrune(app, readJson('package.json'), readJson('package-lock.json'), (folder) => readJson(`${folder}/package.json`));

describe('planPrune', () => {
  it('keeps the app and the workspaces its dependencies reach, never test or build helpers', () => {
    const webtoon = plan('webtoon');
    expect(webtoon.workspaces[0]).toBe('apps/webtoon');
    expect(webtoon.workspaces).toEqual(expect.arrayContaining(['packages/host', 'packages/webtoon', 'packages/db', 'packages/event-bus']));
    for (const never of ['packages/testing', 'packages/vitest-config', 'packages/eslint-config', 'packages/gateway', 'packages/payment', 'deploy']) {
      expect(webtoon.workspaces).not.toContain(never);
    }
    const packages = Object.keys(webtoon.lockfile.packages);
    expect(packages).toContain('node_modules/@nestjs/core');
    expect(packages).toContain('node_modules/kafkajs');
    expect(packages).toContain('node_modules/@portal/webtoon-service');
    for (const devOnly of ['node_modules/typescript', 'node_modules/vitest', 'node_modules/testcontainers', 'node_modules/turbo', 'node_modules/express-gateway']) {
      expect(packages).not.toContain(devOnly);
    }
    expect(webtoon.packageJson).toMatchObject({ main: 'apps/webtoon/dist/main.js', workspaces: webtoon.workspaces });
    expect(webtoon.packageJson).not.toHaveProperty('devDependencies');
  });

  it('drops devDependencies from the kept workspaces, which npm would otherwise try to resolve', () => {
    const { lockfile, workspaces } = plan('gateway');
    expect(workspaces).toContain('packages/gateway');
    expect(Object.keys(lockfile.packages)).toContain('node_modules/express-gateway');
    for (const folder of workspaces) expect(lockfile.packages[folder], folder).not.toHaveProperty('devDependencies');
    expect(lockfile.packages['']).toEqual({ name: 'portal', workspaces, engines: expect.any(Object) });
  });

  it('gives the monolith every domain package', () => {
    const { workspaces } = plan('monolith');
    for (const domain of ['auth', 'news', 'blog', 'webtoon', 'payment', 'analytics']) expect(workspaces).toContain(`packages/${domain}`);
  });

  it('refuses an app that is not one, naming it', () => {
    expect(isAppName('webtoon')).toBe(true);
    expect(isAppName('toString')).toBe(false);
    expect(() => planPrune('nope' as never, {}, { name: 'portal', lockfileVersion: 3, packages: { '': {} } }, () => ({ name: 'x' }))).toThrow(
      /APP: nope has no workspace apps\/nope/,
    );
  });
});

describe('the apps the Dockerfile knows', () => {
  it('are exactly the deployable folders under apps/, on the ports their code defaults to', () => {
    const folders = readdirSync(`${ROOT}/apps`).sort();
    expect(Object.keys(APPS).sort()).toEqual(folders);
    for (const app of folders) {
      const main = readFileSync(`${ROOT}/apps/${app}/src/main.ts`, 'utf8');
      const port = app === 'gateway'
        ? Number(/PORT: port\((\d+)\)/.exec(readFileSync(`${ROOT}/packages/gateway/src/gateway.config.ts`, 'utf8'))?.[1])
        : Number(/defaultPort: (\d+)/.exec(main)?.[1]);
      expect(APPS[app as keyof typeof APPS], app).toBe(port);
    }
  });

  it('have the same ports in the image health check', () => {
    const source = readFileSync(`${ROOT}/deploy/docker/healthcheck.mjs`, 'utf8');
    const table = /const PORTS = (\{[^}]*\})/.exec(source)?.[1] ?? '';
    const ports = Object.fromEntries([...table.matchAll(/(\w+): (\d+)/g)].map((m) => [m[1], Number(m[2])]));
    expect(ports).toEqual(APPS);
  });
});
