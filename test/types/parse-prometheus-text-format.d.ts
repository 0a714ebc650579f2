/** The parser ships no types: metric families as it returns them. */
declare module 'parse-prometheus-text-format' {
  export default function parse(text: string): any[]
}
