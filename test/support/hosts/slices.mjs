/**
 * Which /27 slice of 198.51.100.0/24 a harness uses. Two harnesses must not put the same address
 * on two bridges, so a slice is claimed by creating `/run/viscose-hosts/slice-<n>` (holding the
 * owner's pid) with one atomic rename; a claim whose owner died is taken over.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SLICES } from './names.mjs';
import { alive } from './system.mjs';

const CLAIMS = '/run/viscose-hosts';

/** @param {number} slice */
const claimPath = (slice) => join(CLAIMS, `slice-${slice}`);

/** The pid owning slice `slice`, or undefined when unclaimed or unreadable. */
function ownerOfSlice(/** @type {number} */ slice) {
  try {
    return Number(readFileSync(join(claimPath(slice), 'owner'), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Claims a free slice for process `pid`; throws when all are held by live processes.
 * @param {number} pid
 * @returns {number}
 */
export function claimSlice(pid) {
  mkdirSync(CLAIMS, { recursive: true });
  for (let slice = 0; slice < SLICES; slice++) {
    const owner = ownerOfSlice(slice);
    if (owner !== undefined && owner !== pid && !alive(owner)) rmSync(claimPath(slice), { recursive: true, force: true });
    const draft = mkdtempSync(join(CLAIMS, 'draft-'));
    writeFileSync(join(draft, 'owner'), String(pid));
    try {
      renameSync(draft, claimPath(slice)); // fails (ENOTEMPTY/EEXIST) while someone holds the slice
      return slice;
    } catch {
      rmSync(draft, { recursive: true, force: true });
    }
  }
  throw new Error(`all ${SLICES} address slices of 198.51.100.0/24 are in use by live harnesses (${CLAIMS})`);
}

/** Gives slice `slice` back. */
export function releaseSlice(/** @type {number} */ slice) {
  rmSync(claimPath(slice), { recursive: true, force: true });
}
