import { BaseSequencer, type TestSpecification } from 'vitest/node'

/**
 * Files that change what the shared stack runs, so they go after every other file:
 * test/stack/stack.test.ts starts the nodes the test run leaves stopped (test/setup/global.ts).
 */
const RUN_LAST = ['test/stack/stack.test.ts']

const runsLast = (spec: TestSpecification) => RUN_LAST.some((file) => spec.moduleId.endsWith(file))

/** Vitest's own order (slowest and failed first), with RUN_LAST moved to the end. */
export class StackLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    return [...sorted.filter((spec) => !runsLast(spec)), ...sorted.filter(runsLast)]
  }
}
