/**
 * Property tests run with a fixed seed so that CI is reproducible; set
 * FC_SEED=random to explore new cases (or FC_SEED=<n> to replay one run).
 */
import fc from 'fast-check'

const seed = process.env.FC_SEED
if (seed !== 'random') fc.configureGlobal({ seed: seed === undefined ? 0x6d6d73 : Number(seed) })
