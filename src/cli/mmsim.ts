#!/usr/bin/env node
/**
 * The mmsim command's process: runs main() on the command line and exits
 * with its status. `npm run build` bundles this file and what it imports
 * into dist/bin/ (rolldown.config.js), the package's bin: a few dozen
 * chunks start in about half the time of the ~290 modules tsc emits.
 */
import { main } from './main.js'

process.exitCode = await main(process.argv.slice(2), (s) => console.log(s), (s) => console.error(s))
