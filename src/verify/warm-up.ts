import { forgetProofNodes, verifyAccountProof } from './account-proof.ts'
import fixture from './warm-up-proofs.json' with { type: 'json' }

/**
 * Rounds of the warm-up, one per turn of the event loop (each well under a millisecond once the
 * first is done), so a call that arrives meanwhile waits for one round at most.
 */
const ROUNDS = 32

/**
 * Runs the proof checks on real proofs (anvil's, `warm-up-proofs.json`: a contract with 8 slots and
 * two plain accounts) in the moments after start, so the JIT has compiled them before the first
 * replay needs them. A replay's first prefetch checks hundreds of proofs at once; in a process that
 * has checked none, the first of them took about 35 ms longer than the same work later on, all of
 * it on the replay's wait. The nodes are forgotten after each round: the memory of verified nodes
 * is left as it was, and every round does the whole work (hashing and decoding included).
 */
export function warmUpProofChecks(schedule: (run: () => void) => void = defaultSchedule): void {
  const texts = fixture.proofs.flatMap((proof) => [
    ...proof.accountProof,
    ...proof.storageProof.flatMap((slot) => slot.proof),
  ])
  let round = 0
  const step = () => {
    try {
      for (const proof of fixture.proofs) verifyAccountProof(fixture.stateRoot, proof.address, proof)
    } catch {
      // Only a warm-up: whatever it met, the proxy serves on.
      return
    } finally {
      forgetProofNodes(texts)
    }
    round += 1
    if (round < ROUNDS) schedule(step)
  }
  schedule(step)
}

const defaultSchedule = (run: () => void) => {
  const timer = setTimeout(run, 0)
  ;(timer as { unref?: () => void }).unref?.()
}
