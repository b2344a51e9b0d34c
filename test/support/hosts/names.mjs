/**
 * Names and addresses of a harness's resources. Each name carries the owning process's pid (and a
 * per-process serial), so that harnesses of concurrent runs never collide, and leftovers of a run
 * that died without cleaning up can be told apart by whether that pid still lives.
 *
 * - network namespace of a host: `vh-<pid>-<serial>-<host>`
 * - cgroup of the harness:       `vh-<pid>-<serial>` (children: one per host, and `services`)
 * - bridge (root namespace):     `vh<pid36>_<serial36>` (interface names have at most 15 chars,
 *                                hence base 36), host links: `vh<pid36>_<serial36>_<index36>`
 *
 * Addresses come from 198.51.100.0/24 (TEST-NET-2, routed nowhere), cut in eight /27 slices, one
 * per live harness: .1 of a slice is the bridge (where Redis and the proxies listen), hosts get .2
 * to .30.
 */

export const NETWORK_PREFIX = '198.51.100';
export const SLICES = 8;
const SLICE_SIZE = 32;
/** Hosts a slice has addresses for: .2 to .30 (.0 is the network, .31 broadcast, .1 the bridge). */
export const HOSTS_PER_SLICE = SLICE_SIZE - 3;

/** Host names are short and plain, as they become parts of namespace and cgroup names. */
const HOST_NAME = /^[a-z][a-z0-9-]{0,19}$/;

/**
 * The names of one harness's resources.
 * @param {number} pid
 * @param {number} serial
 */
export function harnessNames(pid, serial) {
  const link = `vh${pid.toString(36)}_${serial.toString(36)}`;
  return {
    /** @param {string} host */
    netns: (host) => `vh-${pid}-${serial}-${host}`,
    cgroup: `vh-${pid}-${serial}`,
    bridge: link,
    /** @param {number} index */
    link: (index) => checkedLinkName(`${link}_${index.toString(36)}`),
  };
}

/** @param {string} name */
function checkedLinkName(name) {
  if (name.length > 15) throw new Error(`interface name ${name} is longer than 15 characters`);
  return name;
}

/** @param {string} name */
export function checkHostName(name) {
  if (!HOST_NAME.test(name)) throw new Error(`host name ${JSON.stringify(name)} must match ${HOST_NAME}`);
}

/** The pid that owns a namespace, cgroup or link name of the harness, or undefined for others. */
export function ownerOf(/** @type {string} */ name) {
  const decimal = /^vh-(\d+)-/.exec(name);
  if (decimal) return Number(decimal[1]);
  const base36 = /^vh([0-9a-z]+)_/.exec(name);
  return base36 ? Number.parseInt(base36[1], 36) : undefined;
}

/**
 * Address `offset` of slice `slice` (offset 1: the bridge; 2 and up: hosts).
 * @param {number} slice
 * @param {number} offset
 */
export function address(slice, offset) {
  return `${NETWORK_PREFIX}.${slice * SLICE_SIZE + offset}`;
}

export const PREFIX_LENGTH = 27;

/** A fixed, locally administered MAC for an address, so that static neighbour entries never go stale. */
export function macOf(/** @type {string} */ ip) {
  const last = Number(ip.split('.')[3]);
  return `02:76:68:00:00:${last.toString(16).padStart(2, '0')}`;
}
