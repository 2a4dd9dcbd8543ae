import { packageBuild } from '../../tsup.shared.ts'

const exported = ['src/index.ts', 'src/testing.ts']
export default packageBuild(exported, exported)
