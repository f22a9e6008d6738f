/**
 * What `npm test` prints: on a terminal, vitest's live progress while it
 * runs (erased at the end); then the failing files and tests with their
 * errors and console output, if any, and the summary. A passing run ends in
 * five lines. (vitest's 'minimal' reporter, with the progress kept.)
 * `npx vitest run --reporter=default` lists every file as it finishes.
 */
import { DefaultReporter } from 'vitest/node'

type TestModule = Parameters<DefaultReporter['onTestModuleEnd']>[0]

export default class QuietReporter extends DefaultReporter {
  constructor() {
    super({ summary: true })
  }

  override printTestModule(testModule: TestModule): void {
    if (testModule.state() === 'failed') super.printTestModule(testModule)
  }

  override printTestCase(...args: Parameters<DefaultReporter['printTestCase']>): void {
    if (args[1].result().state === 'failed') super.printTestCase(...args)
  }
}
