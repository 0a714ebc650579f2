/**
 * Events of subscriptions whose creating reply is not sent yet: they wait, in order, because a
 * client must know a subscription's id before its first event. Which reply created which
 * subscriptions the pipeline says as data (`BodyReply.subscriptions`).
 */
export function createHeldEvents(send: (text: string) => void) {
  const held = new Map<string, string[]>()
  return {
    /** A subscription was made for this connection: hold its events until `release`. */
    hold(id: string): void {
      held.set(id, [])
    },
    /** One event of a subscription, sent now or held. */
    deliver(id: string, resultJson: string): void {
      const text = `{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"${id}","result":${resultJson}}}`
      const waiting = held.get(id)
      if (waiting === undefined) send(text)
      else waiting.push(text)
    },
    /** The reply that created these subscriptions is out: their waiting events follow, and later ones go at once. */
    release(ids: readonly string[]): void {
      for (const id of ids) {
        const waiting = held.get(id)
        if (waiting === undefined) continue
        held.delete(id)
        for (const text of waiting) send(text)
      }
    },
  }
}
