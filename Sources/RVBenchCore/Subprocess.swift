// SPDX-License-Identifier: GPL-3.0-or-later
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The result of a finished child process.
public struct ProcessResult: Sendable {
    public var status: Int32
    /// Bounded capture of standard output (the first `outputLimit` bytes).
    public var stdout: Data
    /// Bounded capture of standard error (the first `outputLimit` bytes).
    public var stderr: Data
    /// True when output beyond the limit was discarded.
    public var truncated: Bool
    public var timedOut: Bool

    public var stdoutString: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrString: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs child processes in their own process group, so that a timeout, an error or a
/// cancelled task kills the whole tree (make, mmdebstrap, ssh and their children).
public enum Subprocess {
    /// Runs `argv` to completion.
    ///
    /// - Parameters:
    ///   - argv: the program (looked up in PATH) and its arguments.
    ///   - environment: extra variables added to the current environment.
    ///   - directory: working directory, or the current one.
    ///   - input: bytes written to standard input, which is then closed.
    ///   - timeout: seconds before the process group gets SIGTERM, then SIGKILL 5 s later.
    ///   - outputLimit: at most this many bytes of each stream are kept.
    ///   - onOutput: called with each chunk of stdout/stderr as it arrives (for progress and logs).
    public static func run(
        _ argv: [String],
        environment: [String: String] = [:],
        directory: String? = nil,
        input: Data? = nil,
        timeout: Double? = nil,
        outputLimit: Int = 16 << 20,
        onOutput: (@Sendable (_ isStderr: Bool, _ chunk: Data) -> Void)? = nil
    ) async throws -> ProcessResult {
        precondition(!argv.isEmpty)
        let box = RunState()
        return try await withTaskCancellationHandler {
            try await Task.detached {
                try runBlocking(argv, environment: environment, directory: directory, input: input,
                                timeout: timeout, outputLimit: outputLimit, onOutput: onOutput, state: box)
            }.value
        } onCancel: {
            box.cancel()
        }
    }

    /// Runs `argv` and throws unless it exits 0; returns its standard output as text.
    @discardableResult
    public static func check(
        _ argv: [String], environment: [String: String] = [:], directory: String? = nil,
        input: Data? = nil, timeout: Double? = nil
    ) async throws -> String {
        let r = try await run(argv, environment: environment, directory: directory, input: input, timeout: timeout)
        if r.timedOut {
            throw RVBenchError(.process, "\(argv[0]) timed out after \(Int(timeout ?? 0)) s")
        }
        guard r.status == 0 else {
            let tail = r.stderrString.split(separator: "\n").suffix(15).joined(separator: "\n")
            throw RVBenchError(.process, "\(argv.joined(separator: " ")) exited with status \(r.status)\n\(tail)")
        }
        return r.stdoutString
    }

    /// True if `name` is an executable in PATH.
    public static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let p = "\(dir)/\(name)"
            if access(p, X_OK) == 0 { return p }
        }
        return nil
    }
}

/// Shared between the waiting thread and the cancellation handler.
/// `@unchecked Sendable`: every field is guarded by `lock`.
private final class RunState: @unchecked Sendable {
    private let lock = NSLock()
    private var pgid: pid_t = 0
    private var cancelled = false

    func started(_ pid: pid_t) -> Bool {
        lock.lock(); defer { lock.unlock() }
        pgid = pid
        return !cancelled
    }
    func cancel() {
        lock.lock(); defer { lock.unlock() }
        cancelled = true
        if pgid > 0 { kill(-pgid, SIGKILL) }
    }
}

private func runBlocking(
    _ argv: [String], environment: [String: String], directory: String?, input: Data?,
    timeout: Double?, outputLimit: Int, onOutput: (@Sendable (Bool, Data) -> Void)?, state: RunState
) throws -> ProcessResult {
    var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0], inPipe: [Int32] = [0, 0]
    guard pipe(&outPipe) == 0, pipe(&errPipe) == 0, pipe(&inPipe) == 0 else {
        throw RVBenchError(.process, "pipe() failed: \(String(cString: strerror(errno)))")
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
    posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
    for fd in inPipe + outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }

    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    posix_spawnattr_setpgroup(&attr, 0)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var empty = sigset_t(); sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attr, &empty)
    var defaults = sigset_t(); sigemptyset(&defaults)
    for s in [SIGINT, SIGTERM, SIGPIPE, SIGHUP] { sigaddset(&defaults, s) }
    posix_spawnattr_setsigdefault(&attr, &defaults)

    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    let envStrings = env.map { "\($0.key)=\($0.value)" }

    // `env -C DIR` changes directory in the child (glibc's addchdir_np is not visible to Swift).
    let argv = directory.map { ["env", "-C", $0] + argv } ?? argv
    var pid: pid_t = 0
    let cArgs = argv.map { strdup($0) } + [nil]
    let cEnv = envStrings.map { strdup($0) } + [nil]
    defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
    let rc = posix_spawnp(&pid, argv[0], &actions, &attr, cArgs, cEnv)
    close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
    guard rc == 0 else {
        close(inPipe[1]); close(outPipe[0]); close(errPipe[0])
        throw RVBenchError(.process, "cannot start \(argv[0]): \(String(cString: strerror(rc)))")
    }
    if !state.started(pid) { kill(-pid, SIGKILL) }

    // Feed stdin from a separate thread so a large input cannot deadlock with output.
    let stdinFD = inPipe[1]
    let writer = Thread {
        if let input {
            input.withUnsafeBytes { raw in
                var off = 0
                while off < raw.count {
                    let n = write(stdinFD, raw.baseAddress! + off, raw.count - off)
                    if n <= 0 { break }
                    off += n
                }
            }
        }
        close(stdinFD)
    }
    writer.start()

    var out = Data(), err = Data(), truncated = false, timedOut = false
    let deadline = timeout.map { Date().addingTimeInterval($0) }
    var killAt: Date? = nil
    var fds = [pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0),
               pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0)]
    var open = 2
    var buf = [UInt8](repeating: 0, count: 65536)
    while open > 0 {
        var waitMs: Int32 = 1000
        if let deadline {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 && !timedOut {
                timedOut = true
                kill(-pid, SIGTERM)
                killAt = Date().addingTimeInterval(5)
            }
            if !timedOut { waitMs = Int32(max(1, min(1000, left * 1000))) }
        }
        if let k = killAt, k.timeIntervalSinceNow <= 0 { kill(-pid, SIGKILL); killAt = nil }
        let n = poll(&fds, nfds_t(fds.count), waitMs)
        if n < 0 && errno != EINTR { break }
        for i in 0..<fds.count where fds[i].fd >= 0 && fds[i].revents != 0 {
            let r = read(fds[i].fd, &buf, buf.count)
            // A signal (e.g. SIGCHLD from another child of this process) interrupts read(); closing
            // the pipe then would kill a still-writing child with SIGPIPE.
            if r < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            if r <= 0 {
                close(fds[i].fd); fds[i].fd = -1; open -= 1
                continue
            }
            let chunk = Data(buf[0..<r])
            onOutput?(i == 1, chunk)
            if i == 0 {
                if out.count < outputLimit { out.append(chunk.prefix(outputLimit - out.count)) } else { truncated = true }
            } else {
                if err.count < outputLimit { err.append(chunk.prefix(outputLimit - err.count)) } else { truncated = true }
            }
        }
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    // Reap anything the child left in its group.
    kill(-pid, SIGKILL)
    let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return ProcessResult(status: code, stdout: out, stderr: err, truncated: truncated, timedOut: timedOut)
}

/// Quotes `s` as one word for a POSIX shell (a remote one over SSH, or `sh -c`).
public func shellQuote(_ s: String) -> String {
    if !s.isEmpty, s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/._-=:,+@".contains($0)) }) {
        return s
    }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// True while a process with this id exists (also one of another user, which `kill` refuses with EPERM).
public func processExists(_ pid: Int32) -> Bool {
    kill(pid, 0) == 0 || errno == EPERM
}
