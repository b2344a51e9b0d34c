/**
 * The functions of inline steps on this thread, compiled once per source: the source a pipeline
 * carries was checked where the step was given (inline-step.ts), so here it is only compiled.
 * Loops fuse the source into their own text instead (loop.ts); this is for the calls made outside
 * a loop, such as combining two pieces' results with a reduce function.
 */
import type { TaskFunction } from '../worker/task-table.js';

const compiled = new Map<string, TaskFunction>();
/** A program has a handful of inline steps; a bound keeps one that makes them by the thousand from growing without end. */
const MAX_COMPILED = 256;

export function inlineFunction(source: string): TaskFunction {
  let fn = compiled.get(source);
  if (fn === undefined) {
    fn = new Function(`'use strict'; return (${source});`)() as TaskFunction;
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(source, fn);
  }
  return fn;
}
