import CFITSIO

/// A cfitsio status code, as returned through every cfitsio call's `int *status` argument.
///
/// Zero is success; the named constants are the codes AstroPile meets or tests for. Their
/// ``description`` is cfitsio's own short text (`ffgerr`, `fits_get_errstatus`).
public struct FITSStatus: RawRepresentable, Error, Hashable, Sendable, CustomStringConvertible {
    /// The numeric status, as `fitsio.h` defines it.
    public let rawValue: CInt

    /// Wraps a status code.
    public init(rawValue: CInt) { self.rawValue = rawValue }

    /// No error.
    public static let ok = FITSStatus(rawValue: 0)
    /// `FILE_NOT_OPENED` (104): the named file could not be opened.
    public static let fileNotOpened = FITSStatus(rawValue: 104)
    /// `END_OF_FILE` (107): tried to move past the end of the file (a truncated file).
    public static let endOfFile = FITSStatus(rawValue: 107)
    /// `READ_ERROR` (108): error reading from the file.
    public static let readError = FITSStatus(rawValue: 108)
    /// `MEMORY_ALLOCATION` (113): cfitsio could not allocate memory.
    public static let memoryAllocation = FITSStatus(rawValue: 113)
    /// `KEY_NO_EXIST` (202): keyword not found in the header.
    public static let keywordNotFound = FITSStatus(rawValue: 202)
    /// `VALUE_UNDEFINED` (204): the keyword's value field is blank.
    public static let valueUndefined = FITSStatus(rawValue: 204)
    /// `NO_END` (210): no `END` card.
    public static let noEnd = FITSStatus(rawValue: 210)
    /// `NO_SIMPLE` (221): the primary header does not start with `SIMPLE`.
    public static let noSimple = FITSStatus(rawValue: 221)
    /// `NOT_BTABLE` (227): the current HDU is not a binary table.
    public static let notBinaryTable = FITSStatus(rawValue: 227)
    /// `BAD_TFORM` (261): an illegal `TFORMn` value.
    public static let badTFORM = FITSStatus(rawValue: 261)
    /// `BAD_HDU_NUM` (301): HDU number out of range.
    public static let badHDUNumber = FITSStatus(rawValue: 301)
    /// `BAD_ROW_NUM` (307): illegal row number.
    public static let badRowNumber = FITSStatus(rawValue: 307)

    /// True for status 0.
    public var isSuccess: Bool { rawValue == 0 }

    /// cfitsio's short description of the code (`ffgerr`).
    public var description: String {
        var text = [CChar](repeating: 0, count: Int(FLEN_STATUS) + 1)
        ffgerr(rawValue, &text)
        return String(fitsCString: text)
    }

    /// The ``FormatError/Code`` a failure with this status becomes.
    var formatErrorCode: FormatError.Code {
        switch rawValue {
        // FILE_NOT_OPENED (the file exists: a permission or OS problem), FILE_NOT_CREATED,
        // WRITE_ERROR, FILE_NOT_CLOSED, MEMORY_ALLOCATION, SEEK_ERROR.
        case 104, 105, 106, 110, 113, 116: .io
        default: .corruptInput
        }
    }
}

/// cfitsio's error-message stack (`ffgmsg`).
///
/// The stack is process-wide (a mutex guards it in the reentrant build Debian ships), so messages
/// are read right where a call fails, before anything else can push or clear.
enum FITSErrorStack {
    /// Pops every message, oldest first (`ffgmsg` until it returns an empty string).
    static func drain() -> [String] {
        var messages: [String] = []
        var buffer = [CChar](repeating: 0, count: Int(FLEN_ERRMSG) + 1)
        while ffgmsg(&buffer) != 0 {
            let message = String(fitsCString: buffer).fitsTrailingBlanksRemoved()
            if !message.isEmpty { messages.append(message) }
            buffer[0] = 0
        }
        return messages
    }
}

extension FormatError {
    /// A ``FormatError`` for a failed cfitsio call: cfitsio's status text plus its message stack,
    /// read now, with the file and the place in it.
    static func fits(_ status: CInt, path: String, location: String?, doing action: String? = nil,
                     code: FormatError.Code? = nil) -> FormatError {
        let s = FITSStatus(rawValue: status)
        let stack = FITSErrorStack.drain()
        var message = action.map { "\($0) failed: " } ?? ""
        message += "cfitsio status \(status) (\(s.description))"
        if !stack.isEmpty { message += ": " + stack.joined(separator: "; ") }
        return FormatError(code ?? s.formatErrorCode, message, path: path, location: location)
    }
}

extension String {
    /// The text of a NUL-terminated C buffer filled by cfitsio.
    init(fitsCString chars: [CChar]) {
        self = String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// This string without trailing blanks (cfitsio pads its messages and values).
    func fitsTrailingBlanksRemoved() -> String {
        var s = Substring(self)
        while let last = s.last, last == " " { s.removeLast() }
        return String(s)
    }

    /// This string without leading and trailing blanks.
    func fitsBlanksRemoved() -> String {
        var s = Substring(self)
        while let first = s.first, first == " " { s.removeFirst() }
        while let last = s.last, last == " " { s.removeLast() }
        return String(s)
    }
}
