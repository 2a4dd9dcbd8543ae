import { join } from 'node:path'
import { buildApiDocument, serializeApiDocument } from './api-document.ts'
import { renderApiMarkdown } from './api-markdown.ts'

const repositoryRoot = join(import.meta.dirname, '..', '..', '..', '..')

/** A generated file: where it goes in the repository and its content. */
export interface GeneratedFile {
  /** Relative to the repository root. */
  path: string
  content: string
}

/**
 * Every file generated from the method schemas: the Markdown reference and the JSON
 * document ork-rpc validates against (the CLI package cannot import the private worker).
 */
export function generateApiFiles(): GeneratedFile[] {
  const document = buildApiDocument()
  return [
    { path: 'docs/api.md', content: renderApiMarkdown(document) },
    { path: 'packages/ork-rpc/src/ork-methods.json', content: serializeApiDocument(document) },
  ]
}

/** Absolute path of a generated file. */
export function generatedFilePath(file: GeneratedFile): string {
  return join(repositoryRoot, file.path)
}
