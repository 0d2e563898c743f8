import RunEngine

/// Checks of the layout options every data set pipeline takes (`stamps`, `spectra`, `pair`).
enum DataSetOptions {
    /// `--healpix-order` (when the pipeline has one), `--objects-per-file`, `--deflate`.
    static func validate(healpixOrder: Int?, objectsPerFile: Int, deflateLevel: Int) throws {
        if let healpixOrder, !(0...13).contains(healpixOrder) {
            throw RunError.configuration("--healpix-order must be in 0...13, got \(healpixOrder)")
        }
        guard (1...1_000_000).contains(objectsPerFile) else {
            throw RunError.configuration("--objects-per-file must be in 1...1000000, got \(objectsPerFile)")
        }
        guard (1...9).contains(deflateLevel) else { throw RunError.configuration("--deflate must be in 1...9, got \(deflateLevel)") }
    }
}
