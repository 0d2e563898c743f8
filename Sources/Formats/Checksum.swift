import COpenSSL

/// A file checksum: algorithm and lower-case hex digest. Text form `md5:…` / `sha256:…`.
public struct Checksum: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The digest algorithms AstroPile verifies.
    public enum Algorithm: String, Sendable, Hashable, Codable {
        case md5, sha256
        /// Hex digits in a digest.
        var hexLength: Int { self == .md5 ? 32 : 64 }
    }

    public let algorithm: Algorithm
    /// Lower-case hex.
    public let hex: String

    public init(algorithm: Algorithm, hex: String) {
        self.algorithm = algorithm
        self.hex = hex.lowercased()
    }

    /// Parses `md5:…`/`sha256:…`, or a bare hex digest whose length tells the algorithm.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1)
        let (algorithm, hex): (Algorithm?, Substring)
        if parts.count == 2 { (algorithm, hex) = (Algorithm(rawValue: parts[0].lowercased()), parts[1]) }
        else { (algorithm, hex) = (text.count == 32 ? .md5 : text.count == 64 ? .sha256 : nil, Substring(text)) }
        guard let algorithm, hex.count == algorithm.hexLength, hex.allSatisfy(\.isHexDigit) else { return nil }
        self.init(algorithm: algorithm, hex: String(hex))
    }

    public var description: String { "\(algorithm.rawValue):\(hex)" }
}

/// An incremental message digest over OpenSSL's EVP interface (libcrypto).
///
/// The corresponding OpenSSL functions are `EVP_DigestInit_ex`, `EVP_DigestUpdate` and
/// `EVP_DigestFinal_ex`; a failure (which OpenSSL reports for lack of memory or a broken
/// provider) is a ``FormatError`` (`.io`) carrying OpenSSL's own error text, so one file
/// fails, not the whole run. One instance is used by one transfer at a time.
public final class Digest: @unchecked Sendable {
    /// The algorithm.
    public let algorithm: Checksum.Algorithm
    private let context: OpaquePointer

    /// A fresh digest of `algorithm`.
    public init(_ algorithm: Checksum.Algorithm) throws {
        self.algorithm = algorithm
        guard let ctx = EVP_MD_CTX_new() else { throw Self.failure("EVP_MD_CTX_new") }
        context = ctx
        try reset()
    }

    private func reset() throws {
        let md = algorithm == .md5 ? EVP_md5() : EVP_sha256()
        guard EVP_DigestInit_ex(context, md, nil) == 1 else { throw Self.failure("EVP_DigestInit_ex") }
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Adds bytes.
    public func update(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        guard EVP_DigestUpdate(context, base, bytes.count) == 1 else { throw Self.failure("EVP_DigestUpdate") }
    }

    /// The checksum of everything added; the digest starts over afterwards.
    public func finish() throws -> Checksum {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &out, &length) == 1, Int(length) <= out.count else { throw Self.failure("EVP_DigestFinal_ex") }
        try reset()
        let digits = Array("0123456789abcdef".utf8)
        var hex = [UInt8](); hex.reserveCapacity(Int(length) * 2)
        for b in out[0..<Int(length)] { hex.append(digits[Int(b >> 4)]); hex.append(digits[Int(b & 15)]) }
        return Checksum(algorithm: algorithm, hex: String(decoding: hex, as: UTF8.self))
    }

    /// The error for a failed OpenSSL call, with the messages on OpenSSL's error queue.
    static func failure(_ function: String) -> FormatError {
        var messages: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while true {
            let code = ERR_get_error()
            guard code != 0 else { break }
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return FormatError(.io, "message digest: \(function): " + (messages.isEmpty ? "failed" : messages.joined(separator: "; ")))
    }
}

