/** Output helpers of `mmsim demo`: a titled section, and indented /proc excerpts. */
export type Out = (line: string) => void

export function section(out: Out, title: string): void {
  out('')
  out(`== ${title}`)
}

export function show(out: Out, text: string, filter?: (line: string) => boolean): void {
  for (const line of text.trimEnd().split('\n')) if (!filter || filter(line)) out('   ' + line)
}
