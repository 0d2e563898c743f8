import Testing
import TestSupport
@testable import RunEngine

/// How a stage's items are split over MPI ranks (``Run/share(weights:ranks:)``).
@Suite struct ShareTests {
    /// Every item goes to exactly one rank; the loads differ by at most the largest weight; the
    /// same weights give the same shares (every rank computes them on its own).
    @Test(arguments: [1, 2, 3, 7, 64])
    func sharesCoverEveryItemOnceAndBalanceTheWeights(_ ranks: Int) {
        var generator = SplitMix64(seed: UInt64(ranks))
        let weights = (0..<1000).map { _ in Int64(generator.next() % 1_000_000) + 1 }.sorted(by: >)
        let shares = Run.share(weights: weights, ranks: ranks)
        #expect(shares.count == ranks)
        #expect(shares.flatMap { $0 }.sorted() == Array(weights.indices))
        let loads = shares.map { $0.reduce(Int64(0)) { $0 + weights[$1] } }
        #expect((loads.max() ?? 0) - (loads.min() ?? 0) <= (weights.max() ?? 0))
        #expect(Run.share(weights: weights, ranks: ranks) == shares)
    }

    /// Equal weights (a stage without a priority) go round the ranks in order.
    @Test func equalWeightsGoRoundTheRanks() {
        let shares = Run.share(weights: Array(repeating: 1, count: 7), ranks: 3)
        #expect(shares == [[0, 3, 6], [1, 4], [2, 5]])
    }
}
