import Foundation
import Formats

/// Where a run keeps its resume state and scratch files: a folder beside the output named
/// `<output>.astropile-work` (or, with `--tmp DIR`, `DIR/<output name>-<hash>.astropile-work`),
/// never inside the output. Its identity is the output's canonical path, so `out`, `out/` and
/// `./x/../out` are one run, and two outputs never share a work folder. Removed after success.
public struct WorkFolder: Sendable {
    /// The work folder.
    public let path: String
    /// The output it belongs to (canonical).
    public let output: String

    /// The suffix of work folder names.
    public static let suffix = ".astropile-work"

    /// The work folder of `output` (any spelling), placed in `parent` when given (`--tmp`).
    /// - Throws: ``RunError/configuration(_:)`` for an empty output, the root folder, or a
    ///   `parent` inside the output.
    public init(output: String, parent: String? = nil) throws {
        let out = try Self.canonicalPath(output, role: "output")
        self.output = out
        if let parent {
            let dir = try Self.canonicalPath(parent, role: "--tmp")
            let name = URL(fileURLWithPath: out).lastPathComponent
            path = dir + "/" + name + "-" + CanonicalHash.fnv1a(out).prefix(8) + Self.suffix
        } else {
            path = out + Self.suffix
        }
        if path.hasPrefix(out + "/") {
            throw RunError.configuration("the work folder \(path) would be inside the output \(out); choose a --tmp outside it")
        }
    }

    /// `path` made absolute and standard: relative to the current folder, `.`/`..` and repeated or
    /// trailing slashes removed, symbolic links in its existing parent folders resolved.
    /// - Throws: ``RunError/configuration(_:)`` when `path` is empty or the root folder.
    public static func canonicalPath(_ path: String, role: String = "path") throws -> String {
        let trimmed = path.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw RunError.configuration("the \(role) path is empty") }
        let absolute = trimmed.hasPrefix("/") ? trimmed : FileManager.default.currentDirectoryPath + "/" + trimmed
        var parts: [Substring] = []
        for part in absolute.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        guard let last = parts.last else { throw RunError.configuration("the \(role) cannot be the root folder /") }
        var parent = "/" + parts.dropLast().joined(separator: "/")
        if let resolved = realpath(parent, nil) {
            parent = String(cString: resolved)
            free(resolved)
        }
        return (parent == "/" ? "" : parent) + "/" + last
    }

    /// A path inside the work folder.
    public func file(_ relative: String) -> String { path + "/" + relative }

    /// A folder inside the work folder, created if needed.
    public func directory(_ relative: String) throws -> String {
        let p = file(relative)
        do { try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true) } catch {
            throw RunError.writing(p, error)
        }
        return p
    }

    /// Whether the work folder exists.
    public var exists: Bool { FileManager.default.fileExists(atPath: path) }

    /// Removes the work folder and everything in it.
    public func remove() throws {
        guard exists else { return }
        do { try FileManager.default.removeItem(atPath: path) } catch {
            throw RunError.io("cannot remove the work folder \(path): \(error)")
        }
    }
}
