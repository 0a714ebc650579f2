import pkg from '../package.json' with { type: 'json' }

/** The program version, from package.json. */
export const VERSION: string = pkg.version
