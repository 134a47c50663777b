// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation

/// A small lock with a scoped `withLock`, used by the counter sources for their mutable state.
final class NSLockShim: @unchecked Sendable {
    // @unchecked Sendable: NSLock is thread-safe; this only wraps it.
    private let lock = NSLock()

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
