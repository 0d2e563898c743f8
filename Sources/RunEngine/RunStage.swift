/// The stages of one pipeline, as an enum: `enum MarginStage: String, RunStage { case map =
/// "margin-map", … }`. The raw value names the stage's records in the work folder and in the fault
/// hooks (``FaultHooks``), so it is unique across pipelines and never changes; the cases' order is
/// the order the stages run in.
public protocol RunStage: RawRepresentable, CaseIterable, Hashable, Sendable where RawValue == String {
    /// The stage's name in progress lines (`margin map`).
    var title: String { get }
}

extension RunStage {
    /// The raw value with dashes as spaces.
    public var title: String { rawValue.replacingOccurrences(of: "-", with: " ") }
}
