/** Plain-text table: columns padded to their widest cell; long cells are cut with an ellipsis. */
export function formatTable (headers: string[], rows: string[][], options: { header?: boolean, maxCell?: number } = {}): string {
  const maxCell = options.maxCell ?? 60
  const cut = (s: string): string => s.length > maxCell ? s.slice(0, maxCell - 1) + '…' : s
  const all = (options.header === false ? rows : [headers, ...rows]).map(r => r.map(cut))
  const widths = headers.map((_, i) => Math.max(...all.map(r => (r[i] ?? '').length)))
  return all.map(r => r.map((c, i) => i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n')
}
