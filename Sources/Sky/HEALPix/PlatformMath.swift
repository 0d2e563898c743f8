// The transcendental functions HEALPix and the spherical geometry need, taken from the platform's C math library.
//
// The Swift standard library has no `sin`/`cos`. cdshealpix (Rust `f64::sin`, `f64::cos`,
// `f64::asin`, `f64::acos`) calls the very same libm symbols at run time, so using them here is
// what makes `HEALPix.nestedIndex` agree with it bit for bit, including on pixel boundaries.
// A hand-written polynomial would be off by one ulp now and then, and that ulp can move a point
// across a boundary. This file is the only one in `Sky` that imports a platform module.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#elseif canImport(ucrt)
import ucrt
#else
#error("Sky needs the platform C math library (sin, cos, asin, acos, atan2, hypot).")
#endif

extension HEALPix {
    /// libm's `sin`, `cos`, `asin`, `acos`, `atan2` and `hypot`, namespaced so no other file of `Sky` imports the platform.
    enum PlatformMath {
        @inline(__always) static func sin(_ x: Double) -> Double { _sin(x) }
        @inline(__always) static func cos(_ x: Double) -> Double { _cos(x) }
        @inline(__always) static func asin(_ x: Double) -> Double { _asin(x) }
        @inline(__always) static func acos(_ x: Double) -> Double { _acos(x) }
        /// libm's `atan2` and `hypot`, for the spherical geometry in `Sky/Geometry` (astropy's
        /// `angular_separation` calls numpy's, which are these).
        @inline(__always) static func atan2(_ y: Double, _ x: Double) -> Double { _atan2(y, x) }
        @inline(__always) static func hypot(_ x: Double, _ y: Double) -> Double { _hypot(x, y) }
    }
}

// Module-qualified names would depend on the platform module; these file-private forwards do not.
@inline(__always) private func _sin(_ x: Double) -> Double { sin(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { cos(x) }
@inline(__always) private func _asin(_ x: Double) -> Double { asin(x) }
@inline(__always) private func _acos(_ x: Double) -> Double { acos(x) }
@inline(__always) private func _atan2(_ y: Double, _ x: Double) -> Double { atan2(y, x) }
@inline(__always) private func _hypot(_ x: Double, _ y: Double) -> Double { hypot(x, y) }
