import Foundation
import Testing
import TestSupport

@testable import Sky

@Suite("Spherical geometry")
struct SphericalGeometryTests {
    /// Random pairs plus the hard cases: poles, antipodes, RA wrapping, coincident and nearly
    /// coincident points. Expected values from astropy's `SkyCoord.separation`.
    @Test func separationMatchesAstropy() throws {
        let out = try TestSupport.runPython("""
            import numpy as np, warnings
            from astropy.coordinates import SkyCoord
            import astropy.units as u
            rng = np.random.default_rng(5)
            n = 4000
            ra1 = rng.uniform(-400, 760, n); dec1 = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
            ra2 = rng.uniform(0, 360, n); dec2 = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
            # antipodes, near-antipodes, poles, wraps, tiny separations
            k = np.arange(0, n, 8)
            ra2[k] = (ra1[k] + 180) % 360; dec2[k] = -dec1[k]
            k = np.arange(1, n, 8)
            ra2[k] = ra1[k] + 179.9999999; dec2[k] = -dec1[k] + 1e-7
            k = np.arange(2, n, 8); dec1[k] = 90.0
            k = np.arange(3, n, 8); dec2[k] = -90.0
            k = np.arange(4, n, 8); ra1[k] = 359.9999999999; ra2[k] = 1e-10 * rng.uniform(0, 1, k.size)
            k = np.arange(5, n, 8); ra2[k] = ra1[k] + 1e-9 * rng.uniform(-1, 1, k.size); dec2[k] = dec1[k] + 1e-9 * rng.uniform(-1, 1, k.size)
            dec2 = np.clip(dec2, -90, 90)
            sep = SkyCoord(ra1, dec1, unit="deg").separation(SkyCoord(ra2, dec2, unit="deg")).deg
            for row in zip(ra1, dec1, ra2, dec2, sep):
                print(" ".join(repr(float(v)) for v in row))
            """)
        var worst = 0.0, compared = 0
        for line in out.split(separator: "\n") {
            let v = line.split(separator: " ").compactMap { Double($0) }
            guard v.count == 5 else { continue }
            let got = SphericalGeometry.separation(ra1: v[0], dec1: v[1], ra2: v[2], dec2: v[3])
            worst = max(worst, abs(got - v[4]))
            #expect(abs(got - v[4]) <= 1e-12, "\(v): astropy \(v[4]), got \(got)")
            compared += 1
        }
        #expect(compared == 4000)
        #expect(worst <= 1e-12)
    }

    @Test func unitVectorMatchesAstropyCartesian() throws {
        let out = try TestSupport.runPython("""
            import numpy as np
            from astropy.coordinates import SkyCoord
            rng = np.random.default_rng(9)
            n = 2000
            ra = rng.uniform(-720, 720, n); dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
            ra[:4] = [0.0, 360.0, -1e-12, 90.0]; dec[:4] = [90.0, -90.0, 0.0, 0.0]
            c = SkyCoord(ra, dec, unit="deg").cartesian
            back = SkyCoord(c.x, c.y, c.z, representation_type="cartesian").spherical
            for row in zip(ra, dec, c.x.value, c.y.value, c.z.value, back.lon.deg, back.lat.deg):
                print(" ".join(repr(float(v)) for v in row))
            """)
        var compared = 0, inexact = 0
        for line in out.split(separator: "\n") {
            let v = line.split(separator: " ").compactMap { Double($0) }
            guard v.count == 7 else { continue }
            let u = UnitVector(ra: v[0], dec: v[1])
            if u.x != v[2] || u.y != v[3] || u.z != v[4] { inexact += 1 }
            #expect(abs(u.x - v[2]) <= 2e-16 && abs(u.y - v[3]) <= 2e-16 && abs(u.z - v[4]) <= 2e-16, "\(v) → \(u)")
            let back = UnitVector(x: v[2], y: v[3], z: v[4])
            #expect(back.ra >= 0 && back.ra < 360)
            let dra = abs(back.ra - v[5]), wrapped = min(dra, 360 - dra)
            #expect(wrapped <= 1e-12 || abs(v[6]) == 90, "ra of \(v): \(back.ra)")
            #expect(abs(back.dec - v[6]) <= 1e-12, "dec of \(v): \(back.dec)")
            compared += 1
        }
        #expect(compared == 2000)
        #expect(inexact <= 20, "\(inexact) vectors differ from astropy in the last bit")
    }

    @Test func chordAndAngleAreInverse() {
        #expect(SphericalGeometry.chordLength(forAngle: 180) == 2)
        #expect(SphericalGeometry.chordLength(forAngle: 0) == 0)
        #expect(abs(SphericalGeometry.chordLength(forAngle: 60) - 1) < 1e-15)
        #expect(SphericalGeometry.angle(forChordLength: 2.0000000001) == 180)
        for degrees in [1e-9, 1 / 3600.0, 0.5, 1, 10, 45, 90, 135, 179.9] {
            let chord = SphericalGeometry.chordLength(forAngle: degrees)
            #expect(abs(SphericalGeometry.angle(forChordLength: chord) - degrees) <= 1e-12 * max(1, degrees))
        }
    }

    @Test func chordLengthMatchesSearchAroundSky() throws {
        let out = try TestSupport.runPython("""
            import numpy as np
            from astropy.coordinates import Angle
            import astropy.units as u
            for d in [1e-6, 1/3600, 0.001, 0.5, 1.0, 2.5, 30.0, 179.0]:
                print(repr(d), repr(float((2 * np.sin(Angle(0.5 * (d * u.deg)))).value)))
            """)
        var compared = 0
        for line in out.split(separator: "\n") {
            let v = line.split(separator: " ").compactMap { Double($0) }
            guard v.count == 2 else { continue }
            #expect(SphericalGeometry.chordLength(forAngle: v[0]) == v[1], "\(v[0])°")
            compared += 1
        }
        #expect(compared == 8)
    }

    /// Against a dense sampling of the arc, refined by golden-section search.
    @Test func distanceToArcMatchesSampling() {
        var rng = SplitMix64(seed: 21)
        func randomVector() -> UnitVector {
            UnitVector(ra: rng.unit() * 360, dec: asin(2 * rng.unit() - 1) * 180 / .pi)
        }
        for trial in 0..<600 {
            let a = randomVector()
            // Arcs from tiny to nearly half a great circle.
            let scale = [1e-7, 1e-3, 0.1, 1.0, 3.0][trial % 5]
            var b = UnitVector(x: a.x + scale * (rng.unit() - 0.5), y: a.y + scale * (rng.unit() - 0.5), z: a.z + scale * (rng.unit() - 0.5))
            let len = (b.x * b.x + b.y * b.y + b.z * b.z).squareRoot()
            b = UnitVector(x: b.x / len, y: b.y / len, z: b.z / len)
            let p = trial % 3 == 0 ? randomVector() : slerp(a, b, rng.unit() * 1.4 - 0.2, lift: (rng.unit() - 0.5) * scale)
            let got = SphericalGeometry.distanceToArc(p, from: a, to: b)
            let expected = sampledDistance(p, a, b)
            #expect(got <= expected + 1e-14, "trial \(trial) a=\(a) b=\(b) p=\(p)")
            #expect(got >= expected - 1e-13, "trial \(trial): \(got) vs \(expected)")
        }
        let x = UnitVector(x: 1, y: 0, z: 0), y = UnitVector(x: 0, y: 1, z: 0), z = UnitVector(x: 0, y: 0, z: 1)
        #expect(abs(SphericalGeometry.distanceToArc(z, from: x, to: y) - .pi / 2) < 1e-15)
        #expect(SphericalGeometry.distanceToArc(x, from: x, to: y) == 0)
        #expect(abs(SphericalGeometry.distanceToArc(UnitVector(x: -1, y: 0, z: 0), from: x, to: y) - .pi / 2) < 1e-15)
        #expect(abs(SphericalGeometry.distanceToArc(y, from: x, to: x) - .pi / 2) < 1e-15)
    }

    /// The point at fraction `t` of the great circle a→b, moved off it by `lift` radians.
    private func slerp(_ a: UnitVector, _ b: UnitVector, _ t: Double, lift: Double) -> UnitVector {
        let omega = a.angle(to: b)
        guard omega > 0 else { return a }
        let s0 = sin((1 - t) * omega) / sin(omega), s1 = sin(t * omega) / sin(omega)
        let q = (a.x * s0 + b.x * s1, a.y * s0 + b.y * s1, a.z * s0 + b.z * s1)
        let n = Vector3(a).cross(Vector3(b))
        let nl = n.length
        let v = (q.0 * cos(lift) + n.x / nl * sin(lift), q.1 * cos(lift) + n.y / nl * sin(lift), q.2 * cos(lift) + n.z / nl * sin(lift))
        let l = (v.0 * v.0 + v.1 * v.1 + v.2 * v.2).squareRoot()
        return UnitVector(x: v.0 / l, y: v.1 / l, z: v.2 / l)
    }

    private func sampledDistance(_ p: UnitVector, _ a: UnitVector, _ b: UnitVector) -> Double {
        let f = { (t: Double) in p.angle(to: slerp(a, b, t, lift: 0)) }
        let n = 400
        var bestK = 0, best = Double.infinity
        for k in 0...n where f(Double(k) / Double(n)) < best {
            best = f(Double(k) / Double(n))
            bestK = k
        }
        var lo = Double(max(bestK - 1, 0)) / Double(n), hi = Double(min(bestK + 1, n)) / Double(n)
        let g = (5.0.squareRoot() - 1) / 2
        for _ in 0..<100 {
            let m1 = hi - g * (hi - lo), m2 = lo + g * (hi - lo)
            if f(m1) < f(m2) { hi = m2 } else { lo = m1 }
        }
        return min(best, f(0.5 * (lo + hi)))
    }
}
