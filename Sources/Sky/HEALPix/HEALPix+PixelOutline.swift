extension HEALPix {
    /// The boundary of one pixel as pieces of its edges, each a straight segment in the projection
    /// plane, with a bound on how far the piece's curve on the sphere strays from the great-circle
    /// arc through its ends.
    ///
    /// Pixel edges are lines x ± y = const of the projection plane. On the sphere they are not
    /// great circles (except the base-cell edges through the poles, which are meridians). Their
    /// geodesic curvature is at most 1.18 in the equatorial belt (`lon = a ± 3πz/8`) and at most
    /// 0.60/θ in the polar caps, θ the colatitude (measured numerically over the whole families;
    /// θ ≥ 0.816·s with s = 2 − |y|, so κ ≤ 0.735/s). At the transition latitude |y| = 1 the curve
    /// has a kink, so edges crossing it are split there. A piece with curvature ≤ κ and chord angle
    /// ℓ stays within κ·ℓ²/8 of its chord arc (the sagitta of a circle of curvature κ), up to terms
    /// of relative order (κℓ)² and ℓ², which the factor 1.3 below covers for κℓ ≤ 1 and ℓ ≤ 0.25.
    struct PixelOutline {
        /// The plane coordinates of the center and the vertices S, E, N, W.
        var centerX: Double, centerY: Double
        var halfDiagonal: Double
        /// Which of the edges S→E, E→N, N→W, W→S lie on a meridian (bit k for edge k).
        var greatCircleEdges: UInt8

        /// The upper bound on the geodesic curvature of edges in the equatorial belt.
        static let beltCurvature = 1.2
        /// κ ≤ `capCurvatureScale` / s in the polar caps, s = 2 − |y|.
        static let capCurvatureScale = 0.75

        init(layer: Layer, hash: UInt64) {
            (centerX, centerY) = layer.projectedCenter(of: hash)
            halfDiagonal = layer.oneOverNside
            let (baseCell, i, j) = layer.decompose(hash)
            let last = layer.nside - 1
            var flags: UInt8 = 0
            switch baseCell >> 2 {
            case 0:  // north cap: the base cell's NE (i = nside) and NW (j = nside) edges are meridians
                if i == last { flags |= 0b0010 }
                if j == last { flags |= 0b0100 }
            case 2:  // south cap: the base cell's SE (j = 0) and SW (i = 0) edges are meridians
                if j == 0 { flags |= 0b0001 }
                if i == 0 { flags |= 0b1000 }
            default: break
            }
            greatCircleEdges = flags
        }

        /// Vertex `k` (0 S, 1 E, 2 N, 3 W) in the plane.
        @inline(__always)
        func vertex(_ k: Int) -> (x: Double, y: Double) {
            switch k & 3 {
            case 0: return (centerX, centerY - halfDiagonal)
            case 1: return (centerX + halfDiagonal, centerY)
            case 2: return (centerX, centerY + halfDiagonal)
            default: return (centerX - halfDiagonal, centerY)
            }
        }

        /// The center on the sphere.
        var centerVector: UnitVector { Projection.unitVector(x: centerX, y: centerY) }

        /// Calls `body` with the pieces of the boundary: the four edges, each split where it
        /// crosses the transition latitude (so at most eight pieces). `vertices` are the unit
        /// vectors of S, E, N, W, computed once by the caller.
        @inline(__always)
        func forEachPiece(vertices: (UnitVector, UnitVector, UnitVector, UnitVector), _ body: (Piece) -> Void) {
            for k in 0..<4 {
                let (x0, y0) = vertex(k), (x1, y1) = vertex(k + 1)
                let a = Self.element(vertices, k), b = Self.element(vertices, k + 1)
                if greatCircleEdges & (1 << k) != 0 {
                    body(Piece(x0: x0, y0: y0, x1: x1, y1: y1, a: a, b: b, curvature: 0))
                    continue
                }
                let far0 = abs(y0) > 1, far1 = abs(y1) > 1
                if far0 != far1 && abs(y0) != 1 && abs(y1) != 1 {
                    let yt: Double = (y0 + y1) > 0 ? 1 : -1
                    let t = (yt - y0) / (y1 - y0)
                    let xt = x0 + t * (x1 - x0)
                    let m = Projection.unitVector(x: xt, y: yt)
                    body(Piece(x0: x0, y0: y0, x1: xt, y1: yt, a: a, b: m))
                    body(Piece(x0: xt, y0: yt, x1: x1, y1: y1, a: m, b: b))
                } else {
                    body(Piece(x0: x0, y0: y0, x1: x1, y1: y1, a: a, b: b))
                }
            }
        }

        @inline(__always)
        static func element(_ v: (UnitVector, UnitVector, UnitVector, UnitVector), _ k: Int) -> UnitVector {
            switch k & 3 {
            case 0: return v.0
            case 1: return v.1
            case 2: return v.2
            default: return v.3
            }
        }

        /// The vertices S, E, N, W on the sphere.
        func vertexVectors() -> (UnitVector, UnitVector, UnitVector, UnitVector) {
            let s = vertex(0), e = vertex(1), n = vertex(2), w = vertex(3)
            return (Projection.unitVector(x: s.x, y: s.y), Projection.unitVector(x: e.x, y: e.y),
                    Projection.unitVector(x: n.x, y: n.y), Projection.unitVector(x: w.x, y: w.y))
        }
    }

    /// A piece of a pixel edge: a segment of the projection plane, its ends on the sphere, and a
    /// bound on its curve's distance from the arc `a`→`b`.
    struct Piece {
        var x0: Double, y0: Double, x1: Double, y1: Double
        var a: UnitVector, b: UnitVector
        /// An upper bound on the geodesic curvature along the piece; 0 for a meridian.
        var curvature: Double
        /// An upper bound, radians, on the distance from any point of the curve to the arc a→b
        /// (infinite when the piece is too long or too curved for the bound).
        var deviation: Double

        @inline(__always)
        init(x0: Double, y0: Double, x1: Double, y1: Double, a: UnitVector, b: UnitVector, curvature: Double) {
            (self.x0, self.y0, self.x1, self.y1, self.a, self.b) = (x0, y0, x1, y1, a, b)
            self.curvature = curvature
            self.deviation = curvature == 0 ? 0 : Self.deviation(a, b, curvature: curvature)
        }

        /// A piece whose curvature bound comes from its plane coordinates.
        @inline(__always)
        init(x0: Double, y0: Double, x1: Double, y1: Double, a: UnitVector, b: UnitVector) {
            // s = 2 − |y| is smallest at an end of the segment; in the belt 0.75/s < 1.2.
            let s = 2 - max(abs(y0), abs(y1))
            let kappa = s > 0 ? max(PixelOutline.beltCurvature, PixelOutline.capCurvatureScale / s) : .infinity
            self.init(x0: x0, y0: y0, x1: x1, y1: y1, a: a, b: b, curvature: kappa)
        }

        /// The two halves (split at the middle of the plane segment), their curvature bound
        /// inherited (it can only shrink on a sub-segment).
        @inline(__always)
        func halves() -> (Piece, Piece) {
            let xm = 0.5 * (x0 + x1), ym = 0.5 * (y0 + y1)
            let m = Projection.unitVector(x: xm, y: ym)
            return (Piece(x0: x0, y0: y0, x1: xm, y1: ym, a: a, b: m, curvature: curvature),
                    Piece(x0: xm, y0: ym, x1: x1, y1: y1, a: m, b: b, curvature: curvature))
        }

        /// 1.3·κ·ℓ²/8 with ℓ an upper bound on the angle a→b; infinite beyond κℓ = 1 or ℓ = 0.25.
        @inline(__always)
        static func deviation(_ a: UnitVector, _ b: UnitVector, curvature kappa: Double) -> Double {
            let dx = a.x - b.x, dy = a.y - b.y, dz = a.z - b.z
            let c2 = dx * dx + dy * dy + dz * dz
            // angle = 2·asin(c/2) ≤ c·(1 + c²/16) for c ≤ 0.5.
            let chord = c2.squareRoot()
            let angle = chord * (1 + c2 * (1.0 / 16))
            guard angle <= 0.25, kappa * angle <= 1 else { return .infinity }
            return 1.3 / 8 * kappa * angle * angle
        }
    }
}
