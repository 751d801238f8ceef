// Preloaded into a child process (NODE_OPTIONS=--import) to stand for a host whose clock is off
// by PSS_TEST_CLOCK_SKEW_MS: the clock seam only; the database's clock stays true.
const skewMs = Number(process.env.PSS_TEST_CLOCK_SKEW_MS ?? 0)
const RealDate = Date
class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + skewMs)
    else super(...args)
  }

  static now() {
    return RealDate.now() + skewMs
  }
}
globalThis.Date = SkewedDate
