/** The part of a stream the progress indicator writes to. */
export interface ProgressStream {
  write(text: string): unknown
  isTTY?: boolean
}

export interface ProgressOptions {
  /** What is being waited for, e.g. `listThings`. */
  label: string
  /** Shown only after this long (default 1000 ms), so quick calls print nothing. */
  delayMs?: number
  /** Redraw period (default 100 ms). */
  intervalMs?: number
  /** Clock of the elapsed time shown (default `performance.now`: monotonic, unmoved by steps of the wall clock). */
  now?: () => number
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

/**
 * Shows `⠋ waiting for <label>… 2.3s` on a terminal while a call takes longer than
 * `delayMs`, redrawn in place, and erases it when stopped. Writes nothing when the
 * stream is not a terminal (pipes and logs stay clean). Returns the stop function.
 */
export function startProgress(stream: ProgressStream, options: ProgressOptions): () => void {
  if (!stream.isTTY) return () => {}
  const now = options.now ?? (() => performance.now())
  const startedAt = now()
  let frame = 0
  let shown = false
  let interval: NodeJS.Timeout | undefined
  const draw = () => {
    shown = true
    const seconds = ((now() - startedAt) / 1000).toFixed(1)
    stream.write(`\r${FRAMES[frame++ % FRAMES.length]} waiting for ${options.label}… ${seconds}s\x1b[K`)
  }
  const delay = setTimeout(() => {
    draw()
    interval = setInterval(draw, options.intervalMs ?? 100)
    interval.unref()
  }, options.delayMs ?? 1000)
  delay.unref()
  return () => {
    clearTimeout(delay)
    clearInterval(interval)
    if (shown) stream.write('\r\x1b[K')
    shown = false
  }
}
