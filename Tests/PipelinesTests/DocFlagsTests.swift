import Foundation
import Testing
import TestSupport

/// A word of a documented command line, as the shell would split it.
struct DocWord: Sendable {
    /// The word with its quotes removed.
    var text: String
    /// The characters of the word before its first quote: where a flag can be (`--flag='a b'`
    /// gives `--flag=`; `'|'` gives nothing).
    var bare: String
    /// Whether any part of the word was quoted.
    var quoted: Bool
    /// How many `[` were open (outside quotes) where the word starts: a `|` inside `[--a | --b]`
    /// separates alternatives, one outside brackets is a pipe.
    var depth: Int
}

/// One `astropile …` command found in a ```sh block of a doc.
struct DocCommand: Sendable {
    /// The doc, relative to the package root.
    var file: String
    /// The 1-based line the command starts on (backslash continuations joined to it).
    var line: Int
    /// The words after `astropile`.
    var words: [DocWord]
}

/// A doc and its text.
struct DocFile: Sendable {
    var path: String
    var text: String
}

/// A command's `--help`, parsed.
struct HelpPage: Sendable {
    var options: Set<String>
    var subcommands: Set<String>
}

/// Reading commands out of Markdown and options out of `--help`.
enum DocScan {
    /// The pages every capability has; each must exist, be linked from the README and show commands.
    static let capabilityPages = ["docs/catalogs.md", "docs/fetch.md", "docs/images.md", "docs/spectra.md",
                                  "docs/alerts.md", "docs/projects.md", "docs/runs.md", "docs/mpi.md"]

    /// README.md and every docs/*.md of the package root.
    static func documents() throws -> [DocFile] {
        let root = TestSupport.root
        let entries = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)
        let names = ["README.md"] + entries.filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
        var out: [DocFile] = []
        for name in names {
            let text = try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)
            out.append(DocFile(path: name, text: text))
        }
        return out
    }

    /// Every `astropile …` command in the ```sh (or bash, shell) blocks of `text`.
    static func commands(in text: String, file: String) -> [DocCommand] {
        let lines = text.components(separatedBy: "\n").map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
        var out: [DocCommand] = []
        var inFence = false
        var i = 0
        while i < lines.count {
            let stripped = lines[i].trimmingCharacters(in: .whitespaces)
            if stripped.hasPrefix("```") {
                if inFence {
                    inFence = false
                } else {
                    let info = stripped.dropFirst(3).trimmingCharacters(in: .whitespaces)
                    inFence = info == "sh" || info == "bash" || info == "shell"
                }
                i += 1
                continue
            }
            if !inFence {
                i += 1
                continue
            }
            let start = i
            var joined = lines[i]
            while trimTrailing(joined).hasSuffix("\\"), i + 1 < lines.count {
                joined = String(trimTrailing(joined).dropLast()) + " " + lines[i + 1]
                i += 1
            }
            i += 1
            for segment in segments(words(joined)) {
                guard let at = segment.firstIndex(where: isExecutable) else { continue }
                out.append(DocCommand(file: file, line: start + 1, words: Array(segment[(at + 1)...])))
            }
        }
        return out
    }

    /// Splits a line into words as the shell does (quotes, whitespace); a `#` starting a word
    /// outside quotes starts a comment, which ends the line.
    static func words(_ line: String) -> [DocWord] {
        var out: [DocWord] = []
        var current: DocWord? = nil
        var quote: Character? = nil
        var depth = 0
        for ch in line {
            if let q = quote {
                if ch == q { quote = nil } else { current?.text.append(ch) }
                continue
            }
            if ch == " " || ch == "\t" {
                if let c = current { out.append(c) }
                current = nil
                continue
            }
            if ch == "#" && current == nil { break }
            if current == nil { current = DocWord(text: "", bare: "", quoted: false, depth: depth) }
            if ch == "'" || ch == "\"" {
                quote = ch
                current?.quoted = true
                continue
            }
            current?.text.append(ch)
            if current?.quoted == false { current?.bare.append(ch) }
            if ch == "[" { depth += 1 } else if ch == "]" { depth -= 1 }
        }
        if let c = current { out.append(c) }
        return out
    }

    /// The commands of a line: split at `|`, `||`, `&&` and `;` outside brackets and quotes.
    static func segments(_ words: [DocWord]) -> [[DocWord]] {
        var out: [[DocWord]] = []
        var segment: [DocWord] = []
        for w in words {
            if !w.quoted && w.depth == 0 && (w.text == "|" || w.text == "||" || w.text == "&&" || w.text == ";") {
                out.append(segment)
                segment = []
            } else {
                segment.append(w)
            }
        }
        out.append(segment)
        return out
    }

    /// `astropile`, or a path to it (`.build/release/astropile`), but not `BEFORE=path/astropile`.
    static func isExecutable(_ w: DocWord) -> Bool {
        !w.quoted && (w.text == "astropile" || (w.text.hasSuffix("/astropile") && !w.text.contains("=")))
    }

    /// The `--flag` names a word holds: `[--a`, `--b]`, `--a|--b`, `--flag=value`, `--flag,`.
    static func flags(in word: DocWord) -> [String] {
        let opening: Set<Character> = ["[", "("]
        let closing: Set<Character> = ["]", ")", "}", ",", ";"]
        var out: [String] = []
        for piece in word.bare.split(separator: "|") {
            var p = piece
            while let f = p.first, opening.contains(f) { p.removeFirst() }
            while let l = p.last, closing.contains(l) { p.removeLast() }
            guard p.hasPrefix("--"), p.count > 2 else { continue }
            var name = "--"
            for c in p.dropFirst(2) {
                guard (c.isASCII && (c.isLetter || c.isNumber)) || c == "-" else { break }
                name.append(c)
            }
            out.append(name)
        }
        return out
    }

    /// The option names (lines `  --name <value> …`, `  -h, --help`) and the subcommand names
    /// (the `SUBCOMMANDS:` section) of a `--help` text. Descriptions are never read for names.
    static func parseHelp(_ text: String) -> HelpPage {
        var options: Set<String> = []
        var subcommands: Set<String> = []
        var inSubcommands = false
        for raw in text.components(separatedBy: "\n") {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
            if line == "SUBCOMMANDS:" {
                inSubcommands = true
                continue
            }
            if inSubcommands {
                if line.trimmingCharacters(in: .whitespaces).isEmpty {
                    if !subcommands.isEmpty { inSubcommands = false }
                    continue
                }
                if line.hasPrefix("  ") && !line.hasPrefix("   "), let name = line.dropFirst(2).split(separator: " ").first {
                    subcommands.insert(String(name))
                }
                continue
            }
            guard line.hasPrefix("  -") else { continue }
            for token in line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false) {
                if token.hasPrefix("-") {
                    var t = token
                    while t.last == "," { t.removeLast() }
                    for part in t.split(separator: "/") where part.hasPrefix("--") { options.insert(String(part)) }
                } else if token.hasPrefix("<") && token.hasSuffix(">") {
                    continue
                } else {
                    break   // the description (or the gap before it) starts
                }
            }
        }
        return HelpPage(options: options, subcommands: subcommands)
    }

    static func trimTrailing(_ s: String) -> String {
        var t = Substring(s)
        while let l = t.last, l == " " || l == "\t" { t.removeLast() }
        return String(t)
    }
}

/// Every flag the README and docs/*.md show in a command example exists in that command's --help.
@Suite("Documented flags")
struct DocFlagsTests {
    /// Runs `astropile PATH --help` once per path.
    final class HelpCache {
        var pages: [String: HelpPage] = [:]

        func page(_ path: [String]) throws -> HelpPage {
            let key = path.joined(separator: " ")
            if let p = pages[key] { return p }
            let r = try TestSupport.runProcess(TestSupport.executable, path + ["--help"])
            if r.signaled || r.status != 0 {
                Issue.record("`astropile \(key) --help` exited \(r.status): \(r.stderr.suffix(400))")
            }
            let p = DocScan.parseHelp(r.stdout)
            pages[key] = p
            return p
        }
    }

    @Test("Every --flag in a ```sh example is in its command's --help")
    func everyDocumentedFlagExists() throws {
        try #require(FileManager.default.isExecutableFile(atPath: TestSupport.executable),
                     "no debug build at \(TestSupport.executable): run swift build --build-tests")
        let docs = try DocScan.documents()
        let help = HelpCache()
        var perFile: [String: Int] = [:]
        var flagsChecked = 0
        for doc in docs {
            for c in DocScan.commands(in: doc.text, file: doc.path) {
                perFile[doc.path, default: 0] += 1
                var path: [String] = []
                var page = try help.page(path)
                var k = 0
                var unknown: String? = nil
                while k < c.words.count, !page.subcommands.isEmpty {
                    let w = c.words[k].bare
                    if page.subcommands.contains(w) {
                        path.append(w)
                        k += 1
                        page = try help.page(path)
                    } else {
                        if !w.hasPrefix("-") { unknown = c.words[k].text }
                        break
                    }
                }
                let command = (["astropile"] + path).joined(separator: " ")
                if let unknown {
                    // Its flags cannot be checked against anything: one issue for the line.
                    Issue.record("\(c.file):\(c.line): `\(unknown)` is not a subcommand of `\(command)` (not in its --help)")
                    continue
                }
                for word in c.words[k...] {
                    for flag in DocScan.flags(in: word) {
                        flagsChecked += 1
                        if !page.options.contains(flag) {
                            Issue.record("\(c.file):\(c.line): \(flag) is not an option of `\(command)` (not in its --help)")
                        }
                    }
                }
            }
        }
        let commands = perFile.values.reduce(0, +)
        #expect(commands >= 40, "only \(commands) astropile commands found in ```sh blocks: \(perFile)")
        #expect(flagsChecked >= 150, "only \(flagsChecked) flags checked")
        let readme = docs.first(where: { $0.path == "README.md" })?.text ?? ""
        for page in DocScan.capabilityPages {
            #expect(docs.contains(where: { $0.path == page }), "\(page) is missing")
            let linked = readme.contains("](\(page))")
            #expect(linked, "README.md does not link \(page)")
            #expect((perFile[page] ?? 0) > 0, "\(page) shows no astropile command in a ```sh block")
        }
    }

    @Test("The README's command table names every command")
    func readmeTableNamesEveryCommand() throws {
        try #require(FileManager.default.isExecutableFile(atPath: TestSupport.executable),
                     "no debug build at \(TestSupport.executable): run swift build --build-tests")
        let readme = try String(contentsOf: TestSupport.root.appendingPathComponent("README.md"), encoding: .utf8)
        let help = HelpCache()
        var leaves: [String] = []
        var queue: [[String]] = [[]]
        while let path = queue.popLast() {
            let page = try help.page(path)
            if page.subcommands.isEmpty {
                if !path.isEmpty { leaves.append(path.joined(separator: " ")) }
            } else if path.count < 4 {
                for sub in page.subcommands.sorted() { queue.append(path + [sub]) }
            }
        }
        #expect(leaves.count >= 30, "only \(leaves.count) commands found from --help: \(leaves)")
        for leaf in leaves.sorted() {
            let listed = readme.contains("| `astropile \(leaf)` |")
            #expect(listed, "README.md's command table has no row for `astropile \(leaf)`")
        }
    }

    @Test("The extractor finds commands, continuations, alternatives and pipes")
    func extractorReadsShellLines() {
        let doc = """
            Prose with `astropile import --not-in-a-block`.

            ```sh
            astropile cone CAT --ra 1 --dec -2 --radius 1arcsec [--output x.csv | --csv | --count] --delimiter '|'   # --comment
            astropile fetch urls --list u.txt \\
                --dest d [--jobs=3] [--neighbors 1 | --all-pairs]
            echo URL | .build/release/astropile fetch plan urls --list - --dest d --no-head | head --lines 3
            make bench-engine BEFORE=path/to/astropile --x
            ```

            ```python
            astropile --in-python
            ```
            """
        let commands = DocScan.commands(in: doc, file: "t.md")
        #expect(commands.map(\.line) == [4, 5, 7])
        guard commands.count == 3 else { return }
        #expect(commands[0].words.first?.bare == "cone")
        #expect(commands[0].words.flatMap(DocScan.flags(in:)) == ["--ra", "--dec", "--radius", "--output", "--csv", "--count", "--delimiter"])
        #expect(commands[1].words.prefix(2).map(\.bare) == ["fetch", "urls"])
        #expect(commands[1].words.flatMap(DocScan.flags(in:)) == ["--list", "--dest", "--jobs", "--neighbors", "--all-pairs"])
        #expect(commands[2].words.prefix(3).map(\.bare) == ["fetch", "plan", "urls"])
        #expect(commands[2].words.flatMap(DocScan.flags(in:)) == ["--list", "--dest", "--no-head"])
        let page = DocScan.parseHelp("""
            USAGE: astropile x --radius <radius>

            OPTIONS:
              --radius <radius>       Radius (default: --other).
              --bandwidth <bandwidth> Cap --mentioned here.
              --all-pairs             Keep every pair.
              -h, --help              Show help information.

            SUBCOMMANDS:
              urls                    Files from URL lists.
              ztf-alerts              ZTF tarballs.

              See 'astropile help x <subcommand>' for detailed help.
            """)
        #expect(page.options == ["--radius", "--bandwidth", "--all-pairs", "--help"])
        #expect(page.subcommands == ["urls", "ztf-alerts"])
    }
}
