// Process entry of the `petalmesh` command (bin/petalmesh.js loads this through tsx).
import { main } from './program.ts'

const code = await main(process.argv)
process.exitCode = code
if (code !== 0) process.exit(code)
