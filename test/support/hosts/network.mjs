/**
 * The wiring of a harness: a bridge in the root namespace holding the slice's first address
 * (Redis and the delaying proxies listen there), and per host a network namespace whose `eth0` is
 * one end of a veth pair, the other end a port of the bridge. Nothing routes beyond the /27:
 * the root namespace does not forward, and the hosts have no default route.
 *
 * Neighbour entries are static on both sides, so that a cut-off host's packets are silently lost
 * (TCP retransmits, connects hang) instead of failing fast with EHOSTUNREACH after ARP gives up.
 */
import { macOf, PREFIX_LENGTH } from './names.mjs';
import { ip, ipQuietly } from './system.mjs';

/**
 * Creates bridge `name` with address `gateway`.
 * @param {string} name
 * @param {string} gateway
 */
export function createBridge(name, gateway) {
  ip(['link', 'add', name, 'type', 'bridge']);
  ip(['link', 'set', name, 'address', macOf(gateway)]);
  ip(['addr', 'add', `${gateway}/${PREFIX_LENGTH}`, 'dev', name]);
  ip(['link', 'set', name, 'up']);
}

/**
 * Creates namespace `netns` and wires it to `bridge` with address `hostAddress`, through the
 * root-side link `link`.
 * @param {{ bridge: string, gateway: string, netns: string, link: string, hostAddress: string }} wiring
 */
export function createHostNetwork({ bridge, gateway, netns, link, hostAddress }) {
  ip(['netns', 'add', netns]);
  ip(['link', 'add', link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
  ip(['link', 'set', link, 'master', bridge]);
  ip(['link', 'set', link, 'up']);
  ip(['link', 'set', 'eth0', 'address', macOf(hostAddress)], netns);
  ip(['addr', 'add', `${hostAddress}/${PREFIX_LENGTH}`, 'dev', 'eth0'], netns);
  ip(['link', 'set', 'eth0', 'up'], netns);
  ip(['link', 'set', 'lo', 'up'], netns);
  ip(['neigh', 'replace', gateway, 'lladdr', macOf(gateway), 'nud', 'permanent', 'dev', 'eth0'], netns);
  ip(['neigh', 'replace', hostAddress, 'lladdr', macOf(hostAddress), 'nud', 'permanent', 'dev', bridge]);
}

/**
 * Takes the host's bridge port down (`up` false) or up again. Down, its packets go nowhere in
 * either direction while both ends keep their addresses and routes: established connections
 * stall (no reset), new ones hang in SYN retries, as in a network partition.
 * @param {string} link
 * @param {boolean} up
 */
export function setLinkUp(link, up) {
  ip(['link', 'set', link, up ? 'up' : 'down']);
}

/** Removes a host's link and namespace (its processes must be gone first). */
export function removeHostNetwork(/** @type {string} */ link, /** @type {string} */ netns) {
  ipQuietly(['link', 'del', link]);
  ipQuietly(['netns', 'del', netns]);
}

/** Removes a bridge. */
export function removeBridge(/** @type {string} */ name) {
  ipQuietly(['link', 'del', name]);
}
