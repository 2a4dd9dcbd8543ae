import { packageBuild } from '../../tsup.shared.ts'

export default packageBuild(['src/index.ts', 'src/worker.ts', 'src/demo.ts', 'src/aggregation-thread.ts'])
