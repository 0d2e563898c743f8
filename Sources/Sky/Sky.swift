/// `Sky` — pure sky geometry for AstroPile: HEALPix (nested, order ≤ 29) and HATS partition plans.
/// No I/O and no C library beyond the platform's libm (whose `sin`/`asin` cdshealpix also calls,
/// which keeps the HEALPix indices bit-exact), so everything here is unit-testable in microseconds.
public enum Sky {}
