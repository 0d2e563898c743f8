extension HEALPix {
    /// Every pixel at `order` (NESTED scheme) that intersects the cone of `radius` degrees around
    /// (`ra`, `dec`) (degrees), sorted ascending.
    ///
    /// Never misses a pixel; may include one whose distance to the center exceeds `radius` by at
    /// most 1e-7° (the tolerance of ``distanceToPixel(ra:dec:order:index:)``). Found by descending
    /// from the twelve base pixels: a pixel whose ``boundingCap(order:index:)`` misses the cone is
    /// dropped, one whose cap lies inside the cone is taken whole, and at `order` the decision is
    /// ``distanceToPixel(ra:dec:order:index:)`` ≤ `radius`.
    /// - Precondition: finite `ra`, `dec` in [−90°, 90°], `radius >= 0` finite,
    ///   `0 <= order <= maxOrder`.
    public static func coneCoverage(ra: Double, dec: Double, radius: Double, order: Int) -> [Int64] {
        // invariant: orders come from SkyRegion.coverageOrder (0...20) and radii from regions checked by SkyRegion.problem.
        precondition(0...maxOrder ~= order, "HEALPix order must be in 0...29")
        precondition(radius >= 0 && radius.isFinite, "cone radius must be finite and non-negative")
        if radius >= 180 { return Array(0..<pixelCount(order: order)) }
        var search = ConeSearch(
            center: UnitVector(ra: ra, dec: dec),
            radius: radius * AstropyAngle.radiansPerDegree,
            home: nestedIndex(ra: ra, dec: dec, order: order),
            order: order)
        for base in 0..<12 { search.visit(order: 0, index: Int64(base)) }
        return search.result
    }

    /// Every pixel at `order` (NESTED scheme) that intersects the box {ra in [`raRange.lower`,
    /// `raRange.upper`], dec in [`decRange.lower`, `decRange.upper`]}, degrees, sorted ascending.
    ///
    /// The RA interval wraps through 0° when `lower > upper` (after wrapping both into [0°, 360°));
    /// an interval at least 360° wide is the whole circle. Never misses a pixel; the result is a
    /// slight superset: a pixel is kept when the bounding cap of one of its descendants two orders
    /// deeper (or of itself at order 28 and 29) reaches the box.
    /// - Precondition: finite limits, `-90 <= decRange.lower <= decRange.upper <= 90`,
    ///   `0 <= order <= maxOrder`.
    public static func boxCoverage(
        raRange: (lower: Double, upper: Double), decRange: (lower: Double, upper: Double), order: Int
    ) -> [Int64] {
        // invariant: orders come from SkyRegion.coverageOrder (0...20) and radii from regions checked by SkyRegion.problem.
        precondition(0...maxOrder ~= order, "HEALPix order must be in 0...29")
        var search = BoxSearch(box: CoordinateBox(ra: raRange, dec: decRange), order: order)
        for base in 0..<12 { search.visit(order: 0, index: Int64(base)) }
        return search.result
    }

    /// The slack, radians, added to a cone's radius when deciding at the target order: at least
    /// the error of ``boundaryDistance(from:layer:hash:)``, and with it under 1e-7°.
    static let coverageMargin = 6e-10

    struct ConeSearch {
        let center: UnitVector
        let radius: Double
        let home: Int64
        let order: Int
        var result: [Int64] = []

        mutating func visit(order o: Int, index: Int64) {
            let layer = Layer(order: o)
            let cap = HEALPix.cap(layer: layer, hash: UInt64(index))
            let d = center.angle(to: cap.center)
            if d - cap.radius > radius + coverageMargin { return }
            if d + cap.radius <= radius {
                result.append(contentsOf: childRange(index, from: o, to: order))
                return
            }
            if o == order {
                if index == home || boundaryDistance(from: center, layer: layer, hash: UInt64(index)) <= radius + coverageMargin {
                    result.append(index)
                }
                return
            }
            for child in childRange(index, from: o, to: o + 1) { visit(order: o + 1, index: child) }
        }
    }

    struct BoxSearch {
        let box: CoordinateBox
        let order: Int
        /// How much deeper than `order` caps are tried before a pixel is kept.
        let refinement: Int
        var result: [Int64] = []

        init(box: CoordinateBox, order: Int) {
            self.box = box
            self.order = order
            self.refinement = min(2, maxOrder - order)
        }

        mutating func visit(order o: Int, index: Int64) {
            let cap = HEALPix.cap(layer: Layer(order: o), hash: UInt64(index))
            let d = box.distance(from: cap.center)
            if d > cap.radius + coverageMargin { return }
            if d == 0 && box.clearance(from: cap.center) >= cap.radius {
                result.append(contentsOf: childRange(index, from: o, to: order))
                return
            }
            if o == order {
                if d == 0 || reaches(order: o, index: index, depth: refinement) { result.append(index) }
                return
            }
            for child in childRange(index, from: o, to: o + 1) { visit(order: o + 1, index: child) }
        }

        /// Whether the cap of some descendant `depth` orders deeper reaches the box.
        func reaches(order o: Int, index: Int64, depth: Int) -> Bool {
            let cap = HEALPix.cap(layer: Layer(order: o), hash: UInt64(index))
            let d = box.distance(from: cap.center)
            if d > cap.radius + coverageMargin { return false }
            if depth == 0 || d == 0 { return true }
            for child in childRange(index, from: o, to: o + 1) where reaches(order: o + 1, index: child, depth: depth - 1) {
                return true
            }
            return false
        }
    }
}
