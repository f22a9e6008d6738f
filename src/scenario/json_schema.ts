/**
 * The JSON Schema of scenario files (schema/scenario.schema.json, shipped in
 * the package) from the same zod schemas that validate them, so editors
 * (YAML language servers: `# yaml-language-server: $schema=...`) complete
 * and check what `mmsim run` accepts. `npm run schema` rewrites the file;
 * a test fails when it is stale.
 */
import { z } from 'zod'
import { scenario_schema } from './schema.js'

export function scenario_json_schema(): string {
  const s = z.toJSONSchema(scenario_schema(), { unrepresentable: 'any', reused: 'ref' }) as Record<string, unknown>
  return JSON.stringify({ ...s, $id: 'https://mmsim.dev/schema/scenario.schema.json', title: 'mmsim scenario file' }, null, 2) + '\n'
}
