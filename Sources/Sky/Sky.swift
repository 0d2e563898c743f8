/// `Sky` — pure sky geometry for AstroPile: HEALPix (nested, order ≤ 29) and HATS partition plans.
/// No I/O and no C libraries, so everything here is unit-testable in microseconds.
public enum Sky {}
