/**
 * The msgpack extension for Errors, through the whole codec (encode → store → load): what an error
 * thrown by a task looks like to the thread that decodes it.
 */
import { describe, expect, it } from 'vitest';
import { registerErrorExtension } from '../../src/codec/error-extension.js';
import { EncodeError } from '../../src/errors.js';
import { makeCodec, roundTripValue } from '../support/codec.js';

const rig = makeCodec();

/** Round-trips an error as a task's failure. */
function decoded<T = Error>(error: unknown): T {
  return roundTripValue(rig, error) as T;
}

/** An error created in a function of its own, so that its stack names where it was made. */
function raisedInTask(message: string): Error {
  return new Error(message);
}

describe('what an Error keeps', () => {
  it('name, message and the original stack (not the decoder’s)', () => {
    const original = raisedInTask('boom');
    const out = decoded(original);
    expect(out).toBeInstanceOf(Error);
    expect(out.name).toBe('Error');
    expect(out.message).toBe('boom');
    expect(out.stack).toBe(original.stack);
    expect(out.stack).toContain('raisedInTask');
  });

  it('a stack from another thread is kept verbatim', () => {
    const original = new Error('boom');
    original.stack = 'Error: boom\n    at task (file:///worker/tasks.mjs:3:9)';
    expect(decoded(original).stack).toBe(original.stack);
  });

  it('an error without a stack comes back without one', () => {
    const original = new Error('no stack');
    delete original.stack;
    expect(Object.hasOwn(decoded(original), 'stack')).toBe(false);
  });

  it.each([
    ['a string code', 'ENOENT'],
    ['a number code', 42],
  ])('%s', (_, code) => {
    expect(decoded(Object.assign(new Error('coded'), { code }))).toMatchObject({ code });
  });

  it('own properties, with objects, arrays, dates and binary data in them', () => {
    const props = { errno: -2, path: '/missing', details: { tries: [1, 2] }, at: new Date(5), bytes: new Uint8Array([1]) };
    const out = decoded(Object.assign(new Error('with props'), props));
    expect(out).toMatchObject(props);
    expect(Object.keys(out).sort()).toStrictEqual(Object.keys(props).sort());
  });

  it('an own property holding a Map (map-preserving encoding)', () => {
    const out = decoded<Error & { index: Map<number, string> }>(Object.assign(new Error('m'), { index: new Map([[1, 'one']]) }));
    expect(out.index).toStrictEqual(new Map([[1, 'one']]));
  });

  it('a nested cause, with its own class, message and stack', () => {
    const cause = new TypeError('inner');
    const original = new Error('outer', { cause: new Error('middle', { cause }) });
    const out = decoded(original);
    const middle = out.cause as Error;
    expect(middle).toBeInstanceOf(Error);
    expect(middle.message).toBe('middle');
    expect(middle.cause).toBeInstanceOf(TypeError);
    expect((middle.cause as Error).message).toBe('inner');
    expect((middle.cause as Error).stack).toBe(cause.stack);
  });

  it.each([
    ['a plain object', { reason: 'timeout', after: 30 }],
    ['a string', 'because'],
    ['a number', 0],
    ['null', null],
  ])('a cause that is not an error (%s) comes back as that value', (_, cause) => {
    expect(decoded(new Error('why', { cause })).cause).toStrictEqual(cause);
  });

  it('an explicit `cause: undefined` → no cause property', () => {
    const original = new Error('x', { cause: undefined });
    expect(Object.hasOwn(original, 'cause')).toBe(true);
    expect(Object.hasOwn(decoded(original), 'cause')).toBe(false);
  });

  it('a message that is not a string → its string', () => {
    const original = new Error();
    (original as { message: unknown }).message = 42;
    expect(decoded(original).message).toBe('42');
  });

  it('Errors nested in objects, arrays and Map values come back as Errors', () => {
    const value = { list: [new Error('a')], byKey: new Map([['k', new RangeError('b')]]) };
    const out = decoded<{ list: Error[]; byKey: Map<string, Error> }>(value);
    expect(out.list[0]).toBeInstanceOf(Error);
    expect(out.byKey.get('k')).toBeInstanceOf(RangeError);
  });
});

describe('error classes', () => {
  const builtIns = [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError];

  it.each(builtIns.map((Constructor) => [Constructor.name, Constructor] as const))(
    '%s comes back as its own class',
    (name, Constructor) => {
      const out = decoded(new Constructor('built-in'));
      expect(out.constructor).toBe(Constructor);
      expect(out.name).toBe(name);
    },
  );

  it('a custom subclass with a custom name → an Error with that name and its own properties (the class is lost)', () => {
    class ValidationError extends Error {
      override name = 'ValidationError';
      constructor(
        message: string,
        readonly field: string,
      ) {
        super(message);
      }
    }
    const original = new ValidationError('bad input', 'email');
    const out = decoded(original);
    expect(out.constructor).toBe(Error);
    expect(out).not.toBeInstanceOf(ValidationError);
    expect(out).toMatchObject({ name: 'ValidationError', message: 'bad input', field: 'email' });
    expect(out.stack).toBe(original.stack);
  });

  it('a custom subclass that names itself on the prototype → an Error with that name', () => {
    class QuotaError extends Error {}
    Object.defineProperty(QuotaError.prototype, 'name', { value: 'QuotaError' });
    expect(decoded(new QuotaError('q'))).toMatchObject({ constructor: Error, name: 'QuotaError' });
  });

  it('a subclass of TypeError with a custom name → a plain Error with that name (the TypeError base is lost)', () => {
    class ParseError extends TypeError {
      override name = 'ParseError';
    }
    const out = decoded(new ParseError('p'));
    expect(out.constructor).toBe(Error);
    expect(out.name).toBe('ParseError');
  });

  it('a subclass that keeps a built-in name → that built-in class', () => {
    class Unnamed extends RangeError {}
    expect(decoded(new Unnamed('u')).constructor).toBe(RangeError);
  });

  it('a plain Error renamed "TypeError" → a real TypeError (the class follows the name)', () => {
    const original = new Error('renamed');
    original.name = 'TypeError';
    expect(decoded(original).constructor).toBe(TypeError);
  });

  it('a viscose error → an Error with its name, code and own properties', () => {
    const original = new EncodeError('args[1].callback', 'functions cannot be sent');
    const out = decoded<EncodeError>(original);
    expect(out.constructor).toBe(Error);
    expect(out).toMatchObject({ name: 'EncodeError', code: 'VISCOSE_UNENCODABLE', path: 'args[1].callback', message: original.message });
  });

  it('a DOMException → an Error with its name and numeric code', () => {
    const out = decoded(new DOMException('stopped', 'AbortError'));
    expect(out.constructor).toBe(Error);
    expect(out).toMatchObject({ name: 'AbortError', message: 'stopped', code: 20 });
  });

  it('AggregateError with its errors (errors and other values), message and cause', () => {
    const first = new Error('first');
    const original = new AggregateError([first, new RangeError('second'), 'not an error'], 'several failed', { cause: 'batch' });
    const out = decoded<AggregateError>(original);
    expect(out).toBeInstanceOf(AggregateError);
    expect(out.message).toBe('several failed');
    expect(out.cause).toBe('batch');
    expect(out.stack).toBe(original.stack);
    expect(out.errors).toHaveLength(3);
    expect(out.errors[0]).toBeInstanceOf(Error);
    expect((out.errors[0] as Error).stack).toBe(first.stack);
    expect(out.errors[1]).toBeInstanceOf(RangeError);
    expect(out.errors[2]).toBe('not an error');
  });
});

it('registerErrorExtension may be called again (every thread calls it before its first codec use)', () => {
  registerErrorExtension();
  expect(decoded(new TypeError('still')).constructor).toBe(TypeError);
});
