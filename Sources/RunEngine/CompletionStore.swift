import Foundation
import Formats

/// Who a work folder's records belong to: the pipeline, the output, the settings.
public struct RunIdentity: Codable, Sendable, Hashable {
    /// The pipeline (`import`, `margin`, `crossmatch`, …).
    public var pipeline: String
    /// The canonical output path.
    public var output: String
    /// The hash of the settings that decide the output.
    public var configHash: String
    /// Per stage (raw value), the hash of the settings that stage's records depend on, for the
    /// stages whose records survive a change of other settings (the import's map stage keeps its
    /// spill runs when only the partitioning changes).
    public var stageKeys: [String: String]

    /// An identity.
    public init(pipeline: String, output: String, configHash: String, stageKeys: [String: String] = [:]) {
        self.pipeline = pipeline
        self.output = output
        self.configHash = configHash
        self.stageKeys = stageKeys
    }
}

/// Durable completion records of a run's stages and work items: a record is written (and made
/// durable) after its item's output is complete, and an item with a record is never done again.
///
/// Files in the work folder today (``FileCompletionStore``); the registry and MPI ranks can stand
/// behind this protocol later. Implementations are safe to call from several threads at once.
public protocol CompletionStore: Sendable {
    /// The identity recorded for this run, or `nil` when none is.
    func identity() throws -> RunIdentity?
    /// Records the identity (durably).
    func setIdentity(_ identity: RunIdentity) throws
    /// The keys of the items of `stage` that have a record.
    func keys(stage: String) throws -> Set<String>
    /// The record of item `key` of `stage`, or `nil` when there is none.
    func load(stage: String, key: String) throws -> Data?
    /// Records item `key` of `stage` as complete, durably, replacing any earlier record.
    func save(_ record: Data, stage: String, key: String) throws
    /// Forgets the record of item `key` of `stage` (the item is done again).
    func remove(stage: String, key: String) throws
    /// Forgets every record of `stage`.
    func clear(stage: String) throws
}

/// Records as small JSON files: `<work>/run.json` (the identity) and
/// `<work>/records/<stage>/<key>.json`, each written atomically (temp file, fsync, rename,
/// folder fsync).
public struct FileCompletionStore: CompletionStore {
    /// The work folder.
    public let root: String

    /// A store in the folder `root` (created on the first write).
    public init(root: String) { self.root = root }

    var identityFile: String { root + "/run.json" }
    func stageDirectory(_ stage: String) -> String { root + "/records/" + Self.safeName(stage) }
    func recordFile(_ stage: String, _ key: String) -> String { stageDirectory(stage) + "/" + Self.safeName(key) + ".json" }

    /// `name` with every byte outside `[A-Za-z0-9._-]` as `%XX`, so any key is one file name.
    static func safeName(_ name: String) -> String {
        var out = ""
        for b in name.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            case UInt8(ascii: ".") where !out.isEmpty:
                out.append(".")
            default:
                out += "%" + String(b, radix: 16, uppercase: true).leftPadded2
            }
        }
        return out.isEmpty ? "%" : out
    }

    /// The inverse of ``safeName(_:)``.
    static func originalName(_ safe: String) -> String {
        if safe == "%" { return "" }
        var bytes: [UInt8] = []
        var i = safe.utf8.startIndex
        let u = safe.utf8
        while i < u.endIndex {
            if u[i] == UInt8(ascii: "%"), let a = u.index(i, offsetBy: 1, limitedBy: u.endIndex), a < u.endIndex,
               let b = u.index(a, offsetBy: 1, limitedBy: u.endIndex), b < u.endIndex,
               let v = UInt8(String(decoding: [u[a], u[b]], as: UTF8.self), radix: 16) {
                bytes.append(v)
                i = u.index(after: b)
            } else {
                bytes.append(u[i])
                i = u.index(after: i)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func identity() throws -> RunIdentity? {
        guard let data = FileManager.default.contents(atPath: identityFile) else { return nil }
        do { return try JSONDecoder().decode(RunIdentity.self, from: data) } catch {
            throw RunError.outputConflict("\(identityFile) is damaged (\(error)); remove the work folder \(root) to start over")
        }
    }

    public func setIdentity(_ identity: RunIdentity) throws {
        try ensureDirectory(root)
        try write(RecordCoding.encode(identity), to: identityFile)
    }

    public func keys(stage: String) throws -> Set<String> {
        let dir = stageDirectory(stage)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        var out = Set<String>()
        for n in names where n.hasSuffix(".json") && !n.hasPrefix(".") {
            out.insert(Self.originalName(String(n.dropLast(5))))
        }
        return out
    }

    public func load(stage: String, key: String) throws -> Data? {
        FileManager.default.contents(atPath: recordFile(stage, key))
    }

    public func save(_ record: Data, stage: String, key: String) throws {
        let dir = stageDirectory(stage)
        try ensureDirectory(dir)
        try write(record, to: recordFile(stage, key))
    }

    public func remove(stage: String, key: String) throws {
        let path = recordFile(stage, key)
        guard unlink(path) == 0 || errno == ENOENT else {
            throw RunError.io("cannot remove \(path): \(String(cString: strerror(errno)))")
        }
    }

    public func clear(stage: String) throws {
        let dir = stageDirectory(stage)
        guard FileManager.default.fileExists(atPath: dir) else { return }
        do { try FileManager.default.removeItem(atPath: dir) } catch {
            throw RunError.io("cannot remove \(dir): \(error)")
        }
    }

    private func ensureDirectory(_ dir: String) throws {
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw RunError.writing(dir, error)
        }
    }

    private func write(_ data: Data, to path: String) throws {
        do { try AtomicFile.write(Array(data), to: path) } catch { throw RunError.writing(path, error) }
    }
}

/// The JSON form of records: sorted keys, so a record's bytes depend only on its content.
public enum RecordCoding {
    /// Encodes `value` as canonical JSON.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        do { return try e.encode(value) } catch { throw RunError.io("cannot encode a record: \(error)") }
    }

    /// Decodes a record, `nil` when it does not decode as `T` (a record of an older shape: the
    /// item is done again).
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) -> T? {
        try? JSONDecoder().decode(type, from: data)
    }
}

extension String {
    /// A one- or two-digit hex string padded to two digits.
    var leftPadded2: String { count >= 2 ? self : "0" + self }
}
