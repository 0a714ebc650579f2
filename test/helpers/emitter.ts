import { rpc } from './anvil.ts'

/** anvil's first unlocked dev account. */
export const SENDER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
/** Where the emitting contract is installed. */
export const EMITTER = '0x00000000000000000000000000000000000000e1'
/** The topic it logs unless told another. */
export const TOPIC = `0x${'ab'.repeat(32)}`

/** Install at `EMITTER` a contract whose every call logs LOG1(empty data, `topic`), then stops. */
export async function installEmitter(nodeUrl: string, topic = TOPIC): Promise<void> {
  await rpc(nodeUrl, 'anvil_setCode', [EMITTER, `0x7f${topic.slice(2)}60006000a100`])
}

/** One transaction to the emitter, mined at once by anvil: one log. Resolves with its hash. */
export async function emit(nodeUrl: string): Promise<string> {
  const sent = await rpc(nodeUrl, 'eth_sendTransaction', [{ from: SENDER, to: EMITTER, gas: '0x10000' }])
  if (sent.error !== undefined) throw new Error(`the emitter call failed: ${JSON.stringify(sent.error)}`)
  return sent.result as string
}
