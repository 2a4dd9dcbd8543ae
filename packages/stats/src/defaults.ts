/**
 * The reference library's defaults: the aggregation timeframes as `[label, cron]` pairs
 * (6-field cron expressions with seconds).
 */
export const defaults: { readonly timeframes: readonly (readonly [string, string])[] } = Object.freeze({
  timeframes: Object.freeze([
    Object.freeze(['5m', '0 */5 * * * *'] as const),
    Object.freeze(['30m', '0 */30 * * * *'] as const),
    Object.freeze(['3h', '0 0 */3 * * *'] as const),
    Object.freeze(['1D', '0 0 0 * * *'] as const),
  ]),
})
