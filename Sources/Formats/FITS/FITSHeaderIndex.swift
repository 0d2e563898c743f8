import CFITSIO

/// The keywords of the current HDU's header, read once (`ffhdr2str`) and parsed as bytes:
/// looking each column keyword up with cfitsio's `ffgky*` scans the header from the top every
/// time, which for a table of 236 columns (a BOSS `SPALL` HDU) is millions of card reads per
/// file. Values answer as ``FITSFile``'s keyword readers do (first occurrence of a keyword;
/// strings unquoted with `''` unescaped and trailing blanks removed); a long string continued
/// with `CONTINUE` cards, and an integer keyword whose value is not a plain integer, are read
/// through ``FITSFile`` itself so cfitsio's rules apply.
struct FITSHeaderIndex {
    private enum Value {
        /// A quoted string, unquoted, trailing blanks removed.
        case string(String)
        /// Any other value's text, blanks around it removed.
        case raw(String)
    }

    private var values: [String: Value] = [:]
    private var continued: Set<String> = []
    private let file: FITSFile

    /// The current header's cards without COMMENT/HISTORY (`ffhdr2str`), 80 bytes each.
    static func cards(_ file: FITSFile) throws -> [UInt8] {
        var text: UnsafeMutablePointer<CChar>? = nil
        var cards: CInt = 0
        try file.call("reading the header") { ffhdr2str(file.handle, 1, nil, 0, &text, &cards, &$0) }
        defer { if let text { var s: CInt = 0; fffree(text, &s) } }
        guard let text, cards > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(text), count: Int(cards) * 80))
    }

    init(_ file: FITSFile, cards all: [UInt8]) {
        self.file = file
        all.withUnsafeBytes { parse(cards: $0) }
    }

    private mutating func parse(cards bytes: UnsafeRawBufferPointer) {
        let cards = bytes.count / 80
        var previous: String?
        for k in 0..<cards {
            let card = UnsafeRawBufferPointer(rebasing: bytes[(k * 80)..<((k + 1) * 80)])
            var end = 8
            while end > 0 && (card[end - 1] == 0x20 || card[end - 1] == 0) { end -= 1 }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: card[0..<end]), as: UTF8.self)
            if name == "CONTINUE", let p = previous { continued.insert(p) }
            guard end > 0, card[8] == 0x3D /* = */ else { previous = nil; continue }
            previous = name
            guard values[name] == nil, let v = Self.parse(UnsafeRawBufferPointer(rebasing: card[9..<80])) else { continue }
            values[name] = v
        }
    }

    /// The value of a card's bytes after `=`: a quoted string (quotes and `''` resolved) or the
    /// text before a `/` comment; `nil` when blank.
    private static func parse(_ b: UnsafeRawBufferPointer) -> Value? {
        var i = 0
        while i < b.count && b[i] == 0x20 { i += 1 }
        guard i < b.count else { return nil }
        if b[i] == 0x27 /* ' */ {
            var out: [UInt8] = []
            i += 1
            while i < b.count {
                if b[i] == 0x27 {
                    if i + 1 < b.count && b[i + 1] == 0x27 { out.append(0x27); i += 2; continue }
                    break
                }
                out.append(b[i])
                i += 1
            }
            while let last = out.last, last == 0x20 { out.removeLast() }
            return .string(String(decoding: out, as: UTF8.self))
        }
        var j = i
        while j < b.count && b[j] != 0x2F /* / */ { j += 1 }
        while j > i && b[j - 1] == 0x20 { j -= 1 }
        guard j > i else { return nil }
        return .raw(String(decoding: UnsafeRawBufferPointer(rebasing: b[i..<j]), as: UTF8.self))
    }

    /// The raw value text (quotes kept for strings), `nil` when absent or blank — as
    /// ``FITSFile/keywordValue(_:)``.
    func keywordValue(_ name: String) -> String? {
        switch values[name] {
        case .raw(let v)?: v
        case .string(let s)?: "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
        case nil: nil
        }
    }

    /// A string value, trailing blanks removed — as ``FITSFile/stringKeyword(_:)``.
    func stringKeyword(_ name: String) throws -> String? {
        if continued.contains(name) { return try file.stringKeyword(name) }
        switch values[name] {
        case .string(let s)?: return s
        case .raw(let v)?: return v
        case nil: return nil
        }
    }

    /// An integer value, `nil` when absent — as ``FITSFile/integerKeyword(_:)``.
    func integerKeyword(_ name: String) throws -> Int64? {
        switch values[name] {
        case .raw(let v)?: if let i = Int64(v) { return i }
        case .string?: break
        case nil: return nil
        }
        return try file.integerKeyword(name)
    }
}
