/// The files still to transfer, handed out round-robin across hosts while keeping at most
/// `hostLimit` transfers per host; `take` waits while every host with files left is at its limit.
actor WorkQueue {
    private var queues: [String: [FetchItem]] = [:]
    private var hosts: [String] = []
    private var cursor = 0
    private var active: [String: Int] = [:]
    private let hostLimit: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var stopped = false

    /// A queue of `items` (taken in the given order per host).
    init(_ items: [FetchItem], hostLimit: Int) {
        self.hostLimit = hostLimit
        for item in items {
            let host = URLParts(item.url)?.hostKey ?? ""
            if queues[host] == nil { hosts.append(host) }
            queues[host, default: []].append(item)
        }
        for h in hosts { queues[h]!.reverse() }
    }

    /// The next item, or `nil` when none is left or the queue was stopped.
    func take() async -> FetchItem? {
        while true {
            if stopped { return nil }
            var anyLeft = false
            for k in 0..<hosts.count {
                let h = hosts[(cursor + k) % hosts.count]
                guard let last = queues[h]?.last else { continue }
                anyLeft = true
                if active[h, default: 0] < hostLimit {
                    queues[h]!.removeLast()
                    active[h, default: 0] += 1
                    cursor = (cursor + k + 1) % hosts.count
                    return last
                }
            }
            if !anyLeft { return nil }
            await withCheckedContinuation { waiters.append($0) }
        }
    }

    /// Marks a transfer to `url`'s host finished.
    func release(_ url: String) {
        let h = URLParts(url)?.hostKey ?? ""
        active[h, default: 1] -= 1
        wakeAll()
    }

    /// Hands out nothing more.
    func stop() {
        stopped = true
        wakeAll()
    }

    private func wakeAll() {
        let w = waiters
        waiters.removeAll()
        for c in w { c.resume() }
    }
}

/// A shared bandwidth cap: a token bucket refilled at `rate` bytes per second, one second deep.
actor BandwidthLimiter {
    private let rate: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant

    init(bytesPerSecond: Int64) {
        rate = Double(max(bytesPerSecond, 1))
        tokens = rate
        last = .now
    }

    /// Waits until `n` bytes may pass.
    func acquire(_ n: Int) async {
        let now = ContinuousClock.now
        let elapsed = now - last
        last = now
        tokens = min(rate, tokens + rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18))
        tokens -= Double(n)
        if tokens < 0 {
            let wait = -tokens / rate
            try? await Task.sleep(for: .milliseconds(Int64(wait * 1000)))
        }
    }
}
