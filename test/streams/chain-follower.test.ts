import { describe, expect, test } from 'bun:test'
import { type ChainChange, createChainFollower } from '../../src/streams/chain-follower.ts'

/** A toy chain: block n on branch b has hash 0x<b><n>, its parent the block below on the same branch (or on `forkOf`). */
function chain() {
  const blocks = new Map<string, any>()
  const canonical = new Map<number, any>()
  const make = (number: number, branch: string, parent?: any) => {
    const hash = `0x${branch}${number.toString(16).padStart(4, '0')}`
    const block = { number: `0x${number.toString(16)}`, hash, parentHash: parent?.hash ?? '0xgenesis', extra: branch }
    blocks.set(hash, block)
    canonical.set(number, block)
    return block
  }
  return { blocks, canonical, make }
}

function follower(world: ReturnType<typeof chain>, overrides: { windowSize?: number; missing?: Set<string> } = {}) {
  const changes: ChainChange[] = []
  const counts = { duplicates: 0, gaps: 0, reorgs: 0, restarts: 0, byHash: 0, byNumber: 0 }
  const followerOf = createChainFollower({
    windowSize: overrides.windowSize ?? 16,
    retryDelaysMs: [1, 1],
    blockByHash: async (hash) => {
      counts.byHash += 1
      return overrides.missing?.has(hash) ? null : (world.blocks.get(hash) ?? null)
    },
    blockByNumber: async (number) => {
      counts.byNumber += 1
      return world.canonical.get(number) ?? null
    },
    onChange: (change) => changes.push(change),
    onDuplicate: () => counts.duplicates++,
    onGapFilled: () => counts.gaps++,
    onReorg: () => counts.reorgs++,
    onRestart: () => counts.restarts++,
  })
  const delivered = () => changes.flatMap((change) => change.added.map((head) => head.hash))
  return { follower: followerOf, changes, counts, delivered }
}

describe('chain follower', () => {
  test('default', async () => {
    const world = chain()
    const one = world.make(1, 'a')
    const { follower: f, delivered } = follower(world)
    f.offer(one)
    await f.settled()
    expect(delivered()).toEqual([one.hash])
  })

  test('behavior: the head a subscription starts from is not delivered; the blocks above it are, a gap filled; with a tip it is offered like any head', async () => {
    const world = chain()
    const made: any[] = []
    for (let n = 1; n <= 8; n++) made.push(world.make(n, 'a', made[n - 2]))
    const { follower: f, delivered, counts } = follower(world)
    f.begin(made[2])
    f.offer(made[2])
    f.offer(made[5])
    await f.settled()
    expect(delivered()).toEqual([made[3].hash, made[4].hash, made[5].hash])
    expect(f.tip?.hash).toBe(made[5].hash)
    // Known already: nothing; ahead of the tip: taken like an offered head (the gap filled).
    f.begin(made[5])
    f.begin(made[7])
    await f.settled()
    expect(delivered()).toEqual(made.slice(3).map((block) => block.hash))
    expect(counts.duplicates).toBe(1)
  })

  test('behavior: a head from two feeds is delivered once; consecutive heads in order', async () => {
    const world = chain()
    const { follower: f, delivered, counts } = follower(world)
    let parent: any
    const made = []
    for (let n = 1; n <= 5; n++) {
      parent = world.make(n, 'a', parent)
      made.push(parent)
    }
    for (const block of made) {
      f.offer(block)
      f.offer(block)
    }
    await f.settled()
    expect(delivered()).toEqual(made.map((block) => block.hash))
    expect(counts.duplicates).toBe(5)
  })

  test('behavior: a gap is filled over HTTP before the newer head goes out', async () => {
    const world = chain()
    const { follower: f, delivered, counts } = follower(world)
    let parent: any
    const made = []
    for (let n = 1; n <= 6; n++) {
      parent = world.make(n, 'a', parent)
      made.push(parent)
    }
    f.offer(made[0])
    f.offer(made[5])
    await f.settled()
    expect(delivered()).toEqual(made.map((block) => block.hash))
    expect(counts).toMatchObject({ gaps: 1, byNumber: 4 })
  })

  test('behavior: a reorg at the same height removes the replaced blocks and adds the new branch, oldest first', async () => {
    const world = chain()
    const { follower: f, changes } = follower(world)
    const a1 = world.make(1, 'a')
    const a2 = world.make(2, 'a', a1)
    const a3 = world.make(3, 'a', a2)
    for (const block of [a1, a2, a3]) f.offer(block)
    const b2 = world.make(2, 'b', a1)
    const b3 = world.make(3, 'b', b2)
    f.offer(b3)
    await f.settled()
    const last = changes[changes.length - 1]!
    expect(last.removed.map((head) => head.hash)).toEqual([a2.hash, a3.hash])
    expect(last.added.map((head) => head.hash)).toEqual([b2.hash, b3.hash])
    // Back to the first branch: its blocks are delivered again.
    const a4 = world.make(4, 'a', a3)
    world.blocks.set(a2.hash, a2)
    f.offer(a4)
    await f.settled()
    const back = changes[changes.length - 1]!
    expect(back.removed.map((head) => head.hash)).toEqual([b2.hash, b3.hash])
    expect(back.added.map((head) => head.hash)).toEqual([a2.hash, a3.hash, a4.hash])
  })

  test('behavior: a gap whose blocks by number belong to another branch is walked back by hash from the new head', async () => {
    const world = chain()
    const { follower: f, delivered } = follower(world)
    const a1 = world.make(1, 'a')
    f.offer(a1)
    await f.settled()
    const a2 = world.make(2, 'a', a1)
    world.make(3, 'a', a2)
    // By number the node now answers the 'a' branch, but the head offered is on 'c'.
    const c2 = { number: '0x2', hash: '0xc0002', parentHash: a1.hash }
    const c3 = { number: '0x3', hash: '0xc0003', parentHash: c2.hash }
    const c4 = { number: '0x4', hash: '0xc0004', parentHash: c3.hash }
    for (const block of [c2, c3, c4]) world.blocks.set(block.hash, block)
    f.offer(c4)
    await f.settled()
    expect(delivered()).toEqual([a1.hash, c2.hash, c3.hash, c4.hash])
  })

  test('behavior: a block no provider has yet is asked again; later heads wait, order kept', async () => {
    const world = chain()
    const missing = new Set<string>()
    const { follower: f, delivered } = follower(world, { missing })
    const a1 = world.make(1, 'a')
    f.offer(a1)
    await f.settled()
    const b2 = { number: '0x2', hash: '0xb0002', parentHash: a1.hash }
    const b3 = { number: '0x3', hash: '0xb0003', parentHash: b2.hash }
    world.blocks.set(b2.hash, b2)
    missing.add(b2.hash)
    f.offer(b3)
    setTimeout(() => missing.clear(), 0)
    await f.settled()
    expect(delivered()).toEqual([a1.hash, b2.hash, b3.hash])
  })

  test('behavior: a head that cannot be joined within the window restarts delivery at it, said once', async () => {
    const world = chain()
    const { follower: f, delivered, counts } = follower(world, { windowSize: 4 })
    const a1 = world.make(1, 'a')
    f.offer(a1)
    const far = world.make(100, 'a', { hash: '0xunknown' })
    f.offer(far)
    await f.settled()
    expect(delivered()).toEqual([a1.hash, far.hash])
    expect(counts.restarts).toBe(1)
  })

  test("behavior: a lagging feed's older block on another branch, and garbage, are ignored", async () => {
    const world = chain()
    const { follower: f, delivered } = follower(world)
    const a1 = world.make(1, 'a')
    const a2 = world.make(2, 'a', a1)
    f.offer(a1)
    f.offer(a2)
    f.offer({ number: '0x1', hash: '0xstale', parentHash: '0xgenesis' })
    for (const garbage of [null, 1, 'x', {}, { number: 'zz', hash: 1 }, []]) f.offer(garbage)
    await f.settled()
    expect(delivered()).toEqual([a1.hash, a2.hash])
  })
})
