import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ConfigError, flag, loadConfig, port } from './index.js';

const shape = {
  PORT: port(3000),
  DATABASE_URL: z.url().optional(),
  SEED_DEMO_DATA: flag(true),
};

describe('loadConfig', () => {
  it('applies defaults and coerces types', () => {
    expect(loadConfig(shape, {})).toEqual({ PORT: 3000, DATABASE_URL: undefined, SEED_DEMO_DATA: true });
    expect(loadConfig(shape, { PORT: '8081', SEED_DEMO_DATA: 'false', DATABASE_URL: 'postgres://a@b/c' })).toEqual({
      PORT: 8081,
      DATABASE_URL: 'postgres://a@b/c',
      SEED_DEMO_DATA: false,
    });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig(shape, { PORT: '' }).PORT).toBe(3000);
  });

  it('names every bad variable and what it got', () => {
    let error: unknown;
    try {
      loadConfig(shape, { PORT: 'eighty', SEED_DEMO_DATA: 'yes' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/PORT: .*\(got 'eighty'\)/);
    expect((error as Error).message).toMatch(/SEED_DEMO_DATA: expected 'true' or 'false' \(got 'yes'\)/);
  });
});
