// A seeded pseudo-random sequence (mulberry32): the bench's lossy link and the simulation's traffic give
// the same numbers on every run. Plain JavaScript, so the bench (run by node as it is) and the
// simulation (bundled) share it.

/** Numbers in [0, 1), the same sequence for the same seed. */
export function seeded(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
