/** Plain UTF-16 code-unit order (what `<` does on strings): ties never depend on the locale, so
 * every node ranks the same ids the same way. */
export function compareCodeUnits (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
