export {}

/**
 * `bun test/helpers/burst.ts URL COUNT`: COUNT distinct `eth_getBalance` calls at once, from a
 * process whose own fetch cap is raised (the test runner's is Bun's 256, which would queue them
 * client-side); prints `{ answered, errors: [first few] }` as one JSON line.
 */
const [url, count] = [process.argv[2] as string, Number(process.argv[3])]
const answers = await Promise.all(
  Array.from({ length: count }, async (_, index) => {
    const body = {
      jsonrpc: '2.0',
      id: index,
      method: 'eth_getBalance',
      params: [`0x${index.toString(16).padStart(40, '0')}`, 'latest'],
    }
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    return (await response.json()) as { result?: unknown; error?: unknown }
  }),
)
const errors = answers.filter((answer) => answer.error !== undefined)
console.log(JSON.stringify({ answered: answers.length - errors.length, errors: errors.slice(0, 3) }))
