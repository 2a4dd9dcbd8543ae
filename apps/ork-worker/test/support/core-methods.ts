/** The JSON methods of the worker's core (issue 6), in the order the API reference lists them. */
export const CORE_JSON_METHODS = [
  'registerRack',
  'forgetRacks',
  'listRacks',
  'listThings',
  'getThingsCount',
  'getHistoricalLogs',
  'forgetThings',
  'saveThingComment',
  'editThingComment',
  'deleteThingComment',
  'getGlobalConfig',
  'setGlobalConfig',
  'getWrkConf',
  'getThingConf',
  'getWrkSettings',
  'saveWrkSettings',
] as const

export type CoreJsonMethod = (typeof CORE_JSON_METHODS)[number]
