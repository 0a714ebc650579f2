/**
 * Ink imports `react-devtools-core` only when DEV=true; the single binary has no use for it, and the
 * bundler must still resolve the name (tsconfig `paths` points it here).
 */
export default { connectToDevTools() {}, initialize() {} }
export function connectToDevTools(): void {}
export function initialize(): void {}
