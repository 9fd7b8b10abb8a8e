import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';

@Injectable()
class Clock {
  now(): number {
    return 42;
  }
}

@Injectable()
class Greeter {
  // No @Inject() token: Nest finds Clock only through design:paramtypes.
  constructor(private readonly clock: Clock) {}

  greet(): string {
    return `hello at ${this.clock.now()}`;
  }
}

describe('the vitest preset', () => {
  it('emits decorator metadata, so NestJS injects by constructor type', async () => {
    expect(Reflect.getMetadata('design:paramtypes', Greeter)).toEqual([Clock]);

    const moduleRef = await Test.createTestingModule({ providers: [Clock, Greeter] }).compile();

    expect(moduleRef.get(Greeter).greet()).toBe('hello at 42');
  });
});
