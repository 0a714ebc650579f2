/** A set that remembers only its newest `capacity` members: a bounded de-duplication window. */
export type RecentSet = {
  /** True when `key` is new (and now remembered), false when it was already there. */
  add(key: string): boolean
  readonly size: number
}

export function createRecentSet(capacity: number): RecentSet {
  const members = new Set<string>()
  return {
    add(key) {
      if (members.has(key)) return false
      members.add(key)
      if (members.size > capacity) members.delete(members.values().next().value as string)
      return true
    },
    get size() {
      return members.size
    },
  }
}
