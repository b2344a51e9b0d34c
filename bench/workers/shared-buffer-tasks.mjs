// Task for bench/shared-buffers.mjs.
export function first(view) {
  return view[0];
}
