#pragma once
// The processes under measurement (the router, the raw relay, a peer router): started
// by the bench, read through /proc, stopped with SIGTERM.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace bench {

// What /proc says about one process at one moment.
struct ProcessSample {
    double cpu_seconds = 0;         // user + system, all threads (/proc/PID/stat)
    std::uint64_t rss_bytes = 0;    // VmRSS
    std::uint64_t peak_rss_bytes = 0;  // VmHWM: the peak since start
    int open_fds = 0;               // entries of /proc/PID/fd
};
std::optional<ProcessSample> sample_process(pid_t pid);
// The calling process's own CPU time (the load client's).
double own_cpu_seconds();

class ChildProcess {
public:
    // argv[0] is looked up in PATH when it has no '/'. stdout and stderr go to `log`.
    ChildProcess(std::vector<std::string> argv, const std::filesystem::path& log,
                 std::vector<std::string> extra_environment = {});
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess();

    pid_t pid() const { return pid_; }
    bool running();
    // `signal` (SIGTERM unless told), then SIGKILL after `grace`. The exit status (128 +
    // signal when a signal ended it).
    int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000), int signal = 15);

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
};

// A TCP port on 127.0.0.1 that was free a moment ago, below the ephemeral range.
int free_port();
// True once something accepts TCP connections on 127.0.0.1:port.
bool wait_until_listening(int port, std::chrono::milliseconds timeout, ChildProcess* process);
// Raises the soft open-file limit to the hard one; returns the new limit.
std::uint64_t raise_open_file_limit();

}  // namespace bench
