/** What a command gets from its caller besides its arguments (citty's `data`). */
export type CommandData = { allowFetches?: (count: number) => number }
