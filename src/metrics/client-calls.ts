/** How one client's call went (SPEC §13): answered from the cache, sent upstream, or refused by the rate limit. */
export type ClientOutcome = 'hit' | 'upstream' | 'refused'

/** One client's counts, by outcome. */
export type ClientCounts = Record<ClientOutcome, number>

const OTHER = 'other'

/**
 * Calls per client name and outcome (SPEC §13: per-client metrics are labelled by name, bounded
 * like methods, SPEC §8): past `maxClients` names, a new one counts as `other`. Names only: a
 * client is a token's name, never the token.
 */
export function createClientCalls(maxClients: number) {
  const clients = new Map<string, ClientCounts>()
  const countsOf = (client: string): ClientCounts => {
    const name = clients.size < maxClients ? client : OTHER
    let counts = clients.get(name)
    if (counts === undefined) {
      counts = { hit: 0, upstream: 0, refused: 0 }
      clients.set(name, counts)
    }
    return counts
  }
  return {
    /** One call of `client` answered (or refused). */
    record(client: string, outcome: ClientOutcome): void {
      const counts = clients.get(client) ?? countsOf(client)
      counts[outcome] += 1
    },
    /** Every client's counts, by name. */
    get clients(): ReadonlyMap<string, Readonly<ClientCounts>> {
      return clients
    },
  }
}

export type ClientCalls = ReturnType<typeof createClientCalls>
