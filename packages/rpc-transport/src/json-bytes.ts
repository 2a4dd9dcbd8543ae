/**
 * `JSON.parse(bytes.toString())` for large bodies, without making one large string.
 *
 * V8 keeps every string over ~128 KiB in its large-object space, where each allocation maps
 * fresh memory; on the project's VM that costs about 1 ms per 160 KiB (≈0.01 ms below the
 * limit), more than the parse itself. A day of tailLog from 50 racks is 50 such replies. A
 * body that is a JSON array of objects is therefore cut into pieces of about a piece size
 * (64 KiB) at element boundaries, found by the native `indexOf` so the body is never walked
 * byte by byte in JavaScript, each piece parsed on its own as `[piece]`, and the elements
 * joined. A boundary is `},{` followed by the first key of the array's first element
 * (`},{"id":`): the elements of a rack reply share their first key, while the objects of arrays
 * nested inside them (a miner's pools) start with other keys and so are rarely mistaken for it.
 *
 * Why that equals one parse: a piece that parses as `[piece]` is a non-empty list of values
 * separated by commas, so pieces joined by the commas between them form such a list too,
 * with the same elements in the same order. A `},{` that is not an element boundary (inside a
 * string, or between the objects of a nested array) leaves its piece with an open string or
 * an open bracket, and that piece fails: the piece then grows to the next boundary. Anything
 * else (no array, too many misses, a body JSON.parse refuses) falls back to the single parse,
 * so results and errors stay exactly those of `JSON.parse`.
 */

export interface PieceSizes {
  /** Bodies at least this large are cut (below it one string is cheap). */
  thresholdBytes: number
  /** Target size of a piece; a single element larger than this is parsed whole. */
  pieceBytes: number
}

const DEFAULT_SIZES: PieceSizes = { thresholdBytes: 96 * 1024, pieceBytes: 64 * 1024 }

const OPEN_ARRAY = 0x5b // [
const CLOSE_ARRAY = 0x5d // ]
/** Between two objects of an array, as JSON.stringify writes it. */
const OBJECT_BOUNDARY = '},{'
/** A first key longer than this, or holding an escape, is not used in the boundary. */
const MAX_KEY_BYTES = 64
/** Failed pieces tolerated before parsing whole (each costs a parse of its bytes). */
const MAX_MISSES = 8

const isWhitespace = (byte: number | undefined) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09

/** Parses a UTF-8 JSON body; throws what `JSON.parse(bytes.toString())` throws. */
export function parseJsonBytes(bytes: Buffer, sizes: PieceSizes = DEFAULT_SIZES): unknown {
  if (bytes.length >= sizes.thresholdBytes) {
    const elements = parseArrayInPieces(bytes, sizes.pieceBytes)
    if (elements) return elements
  }
  return JSON.parse(bytes.toString())
}

/** The elements of a top-level array parsed piece by piece, or null to parse whole instead. */
function parseArrayInPieces(bytes: Buffer, pieceBytes: number): unknown[] | null {
  let open = 0
  while (isWhitespace(bytes[open])) open++
  let close = bytes.length - 1
  while (close > open && isWhitespace(bytes[close])) close--
  if (bytes[open] !== OPEN_ARRAY || bytes[close] !== CLOSE_ARRAY || close === open) return null
  const boundary = elementBoundary(bytes, open)
  const elements: unknown[] = []
  let misses = 0
  let pieceStart = open + 1
  let searchFrom = pieceStart + pieceBytes
  for (;;) {
    const found = searchFrom < close ? bytes.indexOf(boundary, searchFrom) : -1
    // The piece ends at the boundary's comma, or at the closing bracket.
    const end = found !== -1 && found < close ? found + 1 : close
    if (appendPiece(bytes, pieceStart, end, elements)) {
      if (end === close) return elements
      pieceStart = end + 1
      searchFrom = pieceStart + pieceBytes
    } else {
      if (end === close || ++misses > MAX_MISSES) return null
      searchFrom = end + 1
    }
  }
}

/**
 * The bytes that separate two elements: `},{"<first key>":` when the array opens with an object
 * whose first key is plain, else `},{`. Any choice keeps the result exact; a closer one misses less.
 */
export function elementBoundary(bytes: Buffer, open: number): Buffer {
  const keyStart = open + 3
  if (bytes[open + 1] !== 0x7b || bytes[open + 2] !== 0x22) return Buffer.from(OBJECT_BOUNDARY)
  const keyEnd = bytes.indexOf(0x22, keyStart)
  const key = keyEnd === -1 ? null : bytes.subarray(keyStart, keyEnd)
  if (!key || key.length > MAX_KEY_BYTES || key.includes(0x5c) || bytes[keyEnd + 1] !== 0x3a) {
    return Buffer.from(OBJECT_BOUNDARY)
  }
  return Buffer.concat([Buffer.from(`${OBJECT_BOUNDARY}"`), key, Buffer.from('":')])
}

/**
 * A piece is copied between brackets into this buffer and decoded from it: decoding the piece
 * and adding the brackets as strings would make V8 copy the text once more to flatten it.
 * Kept between calls up to {@link MAX_KEPT_PIECE_BYTES}; a larger piece (one huge element)
 * gets a buffer of its own.
 */
let bracketed = Buffer.allocUnsafe(0)
const MAX_KEPT_PIECE_BYTES = 1024 * 1024

function bracketedBuffer(length: number): Buffer {
  if (bracketed.length >= length) return bracketed
  if (length > MAX_KEPT_PIECE_BYTES) return Buffer.allocUnsafe(length)
  bracketed = Buffer.allocUnsafe(Math.min(MAX_KEPT_PIECE_BYTES, Math.max(length, 2 * bracketed.length)))
  return bracketed
}

function appendPiece(bytes: Buffer, start: number, end: number, elements: unknown[]): boolean {
  const length = end - start + 2
  const bracketed = bracketedBuffer(length)
  bracketed[0] = OPEN_ARRAY
  bytes.copy(bracketed, 1, start, end)
  bracketed[length - 1] = CLOSE_ARRAY
  let parsed: unknown[]
  try {
    parsed = JSON.parse(bracketed.toString('utf8', 0, length)) as unknown[]
  } catch {
    return false
  }
  // An empty piece would hide a stray comma ("[,1]"), which one parse refuses.
  if (parsed.length === 0) return false
  for (const element of parsed) elements.push(element)
  return true
}
