import NIOCore
import NIOPosix

/// The event loops a server process runs on. They also run the process's
/// Swift tasks (NIO's executor takeover): a method handler, a gateway route
/// and the bus call it makes resume on the loop that did the I/O, instead of
/// hopping to Swift's own thread pool and back for every await. On a machine
/// whose cores are shared by several processes that is most of a request's
/// cost (measured in README "Performance").
enum ProcessEventLoops {
    /// The process's loops: `threads` of them, running its tasks too. Call
    /// once, first thing in a command's `run()`; the group lives as long as the
    /// process (it is NIO's singleton, which is never shut down).
    static func start(threads: Int) -> MultiThreadedEventLoopGroup {
        NIOSingletons.groupLoopCountSuggestion = threads
        // Refused only where the hook is unsupported: tasks then run on Swift's pool, still correct.
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        return MultiThreadedEventLoopGroup.singleton
    }
}
