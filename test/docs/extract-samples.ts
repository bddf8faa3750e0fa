import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'

export interface CodeSample {
  /** Where it is, for messages: `docs/testing.md:42`. */
  readonly where: string
  readonly code: string
}

/** Every ```ts block of the README, docs/ and the package READMEs, as a user would copy it. */
export async function extractSamples(root: string): Promise<CodeSample[]> {
  const files = [
    join(root, 'README.md'),
    ...(await readdir(join(root, 'docs')))
      .filter((name) => name.endsWith('.md'))
      .map((name) => join(root, 'docs', name)),
    ...(await readdir(join(root, 'packages'))).map((name) => join(root, 'packages', name, 'README.md')),
  ]
  const samples: CodeSample[] = []
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => undefined)
    if (text === undefined) continue
    const pattern = /^```ts\n([\s\S]*?)^```$/gm
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      const line = text.slice(0, match.index).split('\n').length + 1
      samples.push({ where: `${relative(root, file)}:${line}`, code: match[1]! })
    }
  }
  return samples
}
