import type { OrkContext } from '../context.ts'
import type { MethodDefinition } from '../rpc/method.ts'
import {
  cancelActionsBatch,
  getAction,
  getActionsBatch,
  getAuditLog,
  pushAction,
  pushActionsBatch,
  queryActions,
  voteAction,
} from './actions.ts'
import { getGlobalConfig, setGlobalConfig } from './global-config.ts'
import { getThingConf, getWrkConf, getWrkSettings, saveWrkSettings } from './rack-config.ts'
import { forgetRacks, listRacks, registerRack } from './racks.ts'
import { getWrkExtData, tailLog, tailLogCustomRangeAggr, tailLogMulti } from './tail-log.ts'
import {
  deleteThingComment,
  editThingComment,
  forgetThings,
  getHistoricalLogs,
  getThingsCount,
  listThings,
  saveThingComment,
} from './things.ts'

/** Every JSON method of the ork, in the reference's declaration order (ork-behaviour.md 2.1), then the ork's own additions. */
export function orkMethods(context: OrkContext): MethodDefinition[] {
  return [
    registerRack,
    forgetRacks,
    listRacks,
    listThings,
    getHistoricalLogs,
    forgetThings,
    tailLog,
    tailLogMulti,
    saveThingComment,
    editThingComment,
    deleteThingComment,
    pushAction,
    pushActionsBatch,
    setGlobalConfig,
    getGlobalConfig,
    getAction,
    voteAction,
    queryActions,
    getActionsBatch,
    cancelActionsBatch,
    getWrkExtData,
    tailLogCustomRangeAggr,
    getWrkConf,
    getThingConf,
    getWrkSettings,
    saveWrkSettings,
    getThingsCount,
    getAuditLog,
  ].map((build) => build(context) as MethodDefinition)
}
