import CFITSIO

extension FITSFile {
    /// The current HDU's header as 80-character cards without separators, comments left out —
    /// the form wcslib's parser takes (`ffhdr2str`, `fits_hdr2str`).
    public func headerText() throws -> String {
        var text: UnsafeMutablePointer<CChar>? = nil
        var keys: CInt = 0
        defer { if let text { var s: CInt = 0; fffree(text, &s) } }
        try call("reading the header") { ffhdr2str(handle, 1, nil, 0, &text, &keys, &$0) }
        return text.map { String(cString: $0) } ?? ""
    }

    /// The axis lengths of the current image HDU, NAXIS1 first (`ffgidm`, `ffgiszll`).
    public func imageShape() throws -> [Int] {
        var naxis: CInt = 0
        try call("reading NAXIS") { ffgidm(handle, &naxis, &$0) }
        guard naxis > 0 else { return [] }
        guard naxis <= 999 else {
            throw FormatError(.corruptInput, "NAXIS = \(naxis) is not a valid image", path: path, location: hduLocation)
        }
        var axes = [Int64](repeating: 0, count: Int(naxis))
        try call("reading the image size") { ffgiszll(handle, naxis, &axes, &$0) }
        return axes.map { Int($0) }
    }

    /// The whole current image HDU as float32, NAXIS1 varying fastest (row-major [y][x]),
    /// with BSCALE/BZERO applied by cfitsio; undefined pixels are NaN (`ffgpve`).
    /// `expected`, when given, is the number of pixels the caller needs; any other size throws.
    public func readImageFloats(expected: Int? = nil) throws -> [Float] {
        let shape = try imageShape()
        var total = 1
        for n in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: max(n, 0))
            guard !overflow, product <= 1 << 34 else {
                throw FormatError(.corruptInput, "image of \(shape) pixels is too large", path: path, location: hduLocation)
            }
            total = product
        }
        if shape.isEmpty { total = 0 }
        if let expected, expected != total {
            throw FormatError(.corruptInput, "image has \(total) pixels (\(shape.map(String.init).joined(separator: "×"))), expected \(expected)",
                              path: path, location: hduLocation)
        }
        var values = [Float](repeating: 0, count: total)
        guard total > 0 else { return values }
        var anyNull: CInt = 0
        let nullValue = Float.nan
        try values.withUnsafeMutableBufferPointer { buffer in
            try call("reading the image") { ffgpve(handle, 0, 1, Int64(total), nullValue, buffer.baseAddress, &anyNull, &$0) }
        }
        return values
    }

    /// One cell of a float column of the current binary table, as float32: all `repeat`
    /// elements of row `row` (0-based) of the column named `name` (case-insensitive;
    /// `ffgcno`, `ffgtclll`, `ffgcve`). Throws ``FormatError/Code/notFound`` without the column.
    public func readFloatCell(column name: String, row: Int = 0) throws -> [Float] {
        var number: CInt = 0
        var template = Array(name.utf8CString)
        var status: CInt = 0
        ffpmrk()
        ffgcno(handle, 0, &template, &number, &status)
        if status != 0 {
            ffcmrk()
            throw FormatError(.notFound, "no column \(name)", path: path, location: hduLocation)
        }
        ffcmrk()
        var type: CInt = 0
        var repeatCount: Int64 = 0
        var width: Int64 = 0
        try call("reading column \(name)") { ffgtclll(handle, number, &type, &repeatCount, &width, &$0) }
        guard repeatCount >= 0, repeatCount <= 1 << 28 else {
            throw FormatError(.corruptInput, "column \(name) has \(repeatCount) elements", path: path, location: hduLocation)
        }
        let rows = try rowCount()
        guard row >= 0, row < rows else {
            throw FormatError(.notFound, "column \(name) has no row \(row) (\(rows) rows)", path: path, location: hduLocation)
        }
        var values = [Float](repeating: 0, count: Int(repeatCount))  // invariant: repeatCount checked to 0...2^28 above
        guard repeatCount > 0 else { return values }
        var anyNull: CInt = 0
        try values.withUnsafeMutableBufferPointer { buffer in
            try call("reading column \(name)", location: "\(hduLocation), column \(name), row \(row + 1)") {
                ffgcve(handle, number, Int64(row + 1), 1, repeatCount, Float.nan, buffer.baseAddress, &anyNull, &$0)
            }
        }
        return values
    }
}
