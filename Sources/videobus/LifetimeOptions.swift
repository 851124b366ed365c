import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// `--exit-with-parent`, for processes started by `videobus up` or the
/// load-test harness: when the parent dies (even by SIGKILL), the child drains
/// and exits instead of lingering as an orphan.
struct LifetimeOptions: ParsableArguments {
    @Flag(help: ArgumentHelp("Drain and exit when the parent process exits (for supervisors and harnesses).", visibility: .hidden))
    var exitWithParent = false

    /// Sends this process SIGTERM (a graceful drain) once its parent is gone.
    func watchParentIfAsked() {
        guard exitWithParent else { return }
        let parent = getppid()
        Task.detached {
            while getppid() == parent {
                try? await Task.sleep(for: .milliseconds(200))
            }
            kill(getpid(), SIGTERM)
        }
    }
}
