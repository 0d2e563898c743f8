extension HEALPix {
    /// The pixels at `order` that share an edge or a vertex with pixel `index` (NESTED scheme),
    /// without the pixel itself, sorted ascending.
    ///
    /// Eight in general; seven for the pixels at the east and west corners of the polar base cells
    /// and at the north and south corners of the equatorial ones, where only three base cells meet;
    /// six at order 0. The same set as `cdshealpix.nested.neighbours(index, order)` without its −1
    /// entries and the pixel itself.
    /// - Precondition: `0 <= order <= maxOrder` and `0 <= index < pixelCount(order:)`.
    public static func neighbours(order: Int, index: Int64) -> [Int64] {
        checkPixel(order: order, index: index)
        let layer = Layer(order: order)
        let (baseCell, i, j) = layer.decompose(UInt64(index))
        let nside = Int(layer.nside)
        var result: [Int64] = []
        result.reserveCapacity(8)
        for dj in -1...1 {
            for di in -1...1 where di != 0 || dj != 0 {
                let ni = Int(i) + di, nj = Int(j) + dj
                let hash: UInt64
                let bi = ni < 0 ? -1 : (ni >= nside ? 1 : 0)
                let bj = nj < 0 ? -1 : (nj >= nside ? 1 : 0)
                if bi == 0 && bj == 0 {
                    hash = layer.hash(baseCell: baseCell, i: UInt32(ni), j: UInt32(nj))
                } else {
                    guard let crossing = BaseCellCrossing(from: baseCell, di: bi, dj: bj) else { continue }
                    let (ti, tj) = crossing.map(i: ni, j: nj, nside: nside)
                    hash = layer.hash(baseCell: crossing.target, i: UInt32(ti), j: UInt32(tj))
                }
                let h = Int64(hash)
                if h != index && !result.contains(h) { result.append(h) }
            }
        }
        result.sort()
        return result
    }
}

extension HEALPix {
    /// Leaving a base cell across one of its edges or vertices: which base cell is there and how
    /// the (i, j) grid continues into it.
    ///
    /// In the projection plane the twelve base cells are diamonds of the same orientation, so a
    /// step across most edges keeps the grid (i and j just wrap by nside). Two polar base cells
    /// sharing an edge (cells 0–3 around the north pole, 8–11 around the south pole) are not
    /// adjacent in the plane: their grids are rotated by ±90° (180° for the cell opposite across
    /// the pole). The east and west corners of polar cells and the north and south corners of
    /// equatorial cells are shared by three base cells only, so there is nothing diagonally
    /// beyond them.
    struct BaseCellCrossing {
        enum Grid {
            /// The same grid, shifted by nside.
            case translated
            /// North cap, toward the next cell east (across the north-east edge).
            case northEast
            /// North cap, toward the next cell west (across the north-west edge).
            case northWest
            /// North cap, across the pole.
            case north
            /// South cap, toward the next cell east (across the south-east edge).
            case southEast
            /// South cap, toward the next cell west (across the south-west edge).
            case southWest
            /// South cap, across the pole.
            case south
        }

        var target: Int
        var grid: Grid

        /// The crossing from `base` in direction (`di`, `dj`), each −1, 0 or 1 (not both 0), where
        /// +i points north-east and +j north-west; nil where no base cell lies that way.
        init?(from base: Int, di: Int, dj: Int) {
            let q = base & 3
            let east = (q + 1) & 3, west = (q + 3) & 3, opposite = (q + 2) & 3
            switch (base >> 2, di, dj) {
            // North polar cells 0–3.
            case (0, -1, 0): (target, grid) = (4 + q, .translated)
            case (0, 0, -1): (target, grid) = (4 + east, .translated)
            case (0, -1, -1): (target, grid) = (8 + q, .translated)
            case (0, 1, 0): (target, grid) = (east, .northEast)
            case (0, 0, 1): (target, grid) = (west, .northWest)
            case (0, 1, 1): (target, grid) = (opposite, .north)
            // Equatorial cells 4–7.
            case (1, 1, 0): (target, grid) = (q, .translated)
            case (1, 0, 1): (target, grid) = (west, .translated)
            case (1, 0, -1): (target, grid) = (8 + q, .translated)
            case (1, -1, 0): (target, grid) = (8 + west, .translated)
            case (1, 1, -1): (target, grid) = (4 + east, .translated)
            case (1, -1, 1): (target, grid) = (4 + west, .translated)
            // South polar cells 8–11.
            case (2, 1, 0): (target, grid) = (4 + east, .translated)
            case (2, 0, 1): (target, grid) = (4 + q, .translated)
            case (2, 1, 1): (target, grid) = (q, .translated)
            case (2, 0, -1): (target, grid) = (8 + east, .southEast)
            case (2, -1, 0): (target, grid) = (8 + west, .southWest)
            case (2, -1, -1): (target, grid) = (8 + opposite, .south)
            default: return nil
            }
        }

        /// Grid coordinates (`i`, `j`) of the starting cell, one step outside it, in the target cell.
        @inline(__always)
        func map(i: Int, j: Int, nside n: Int) -> (i: Int, j: Int) {
            switch grid {
            case .translated: return ((i + n) % n, (j + n) % n)
            case .northEast: return (j, 2 * n - 1 - i)
            case .northWest: return (2 * n - 1 - j, i)
            case .north: return (2 * n - 1 - i, 2 * n - 1 - j)
            case .southEast: return (-1 - j, i)
            case .southWest: return (j, -1 - i)
            case .south: return (-1 - i, -1 - j)
            }
        }
    }
}
