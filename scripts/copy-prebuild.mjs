// Run by `npm pack` / `npm publish` (prepack), after the addon is built: copies it to
// prebuilds/<platform>-<arch>/, where src/native/addon.ts finds it in an installed package. An
// install then needs no compiler and no install script (which npm 12, pnpm, Bun and Deno skip).
import { copyFileSync, mkdirSync } from 'node:fs';

const built = new URL('../native-queue/build/Release/viscose_native.node', import.meta.url);
// Other platforms' binaries, put there by whoever packs, stay: one package can carry several.
const target = new URL(`../prebuilds/${process.platform}-${process.arch}/`, import.meta.url);

mkdirSync(target, { recursive: true });
copyFileSync(built, new URL('viscose_native.node', target));
console.log(`prebuilds/${process.platform}-${process.arch}/viscose_native.node`);
