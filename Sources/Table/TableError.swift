/// An error of the `Table` module: data that does not fit the Arrow layout AstroPile models.
public struct TableError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public enum Code: Sendable, Equatable {
        /// A C Data Interface format string AstroPile does not model.
        case unsupportedType
        /// A released or malformed C Data Interface structure.
        case invalidArray
    }
    /// The kind of failure.
    public let code: Code
    /// A human-readable explanation naming the column where known.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
